#!/usr/bin/env bash
# What a machine without a GPU can check of the GPU session (scripts/gpu-session.sh), so that it
# is ready when a GPU is lent: the scripts parse, ShellCheck finds nothing at warning level
# (where it is installed), the Python helpers it runs on the GPU machine parse (where python3
# is), and without the carried dependencies it stops at once with one line, exit 2, and writes
# nothing to $OUT.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scripts=("$root/scripts/gpu-session.sh" "$root/scripts/gpu/prepare-deps.sh")
fail() { echo "check-gpu-session: $*" >&2; exit 1; }

for s in "${scripts[@]}"; do bash -n "$s" || fail "$s does not parse"; done
if command -v shellcheck >/dev/null; then
  shellcheck -S warning "${scripts[@]}" || fail "ShellCheck warnings"
else
  echo "check-gpu-session: no shellcheck here; its check skipped"
fi
if command -v python3 >/dev/null; then
  for py in "$root"/scripts/gpu/*.py; do
    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$py" || fail "$py does not parse"
  done
else
  echo "check-gpu-session: no python3 here; the helpers' check skipped"
fi

if [[ -d $root/.deps/gpu/root ]]; then
  echo "check-gpu-session: .deps/gpu is here; the missing-dependencies check skipped"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
err=$(OUT=$out bash "$root/scripts/gpu-session.sh" 2>&1 >/dev/null) || status=$?
((status == 2)) || fail "without .deps/gpu: exit $status, expected 2"
[[ $(printf '%s\n' "$err" | wc -l) -eq 1 && $err == *".deps/gpu"* ]] || fail "without .deps/gpu, said: $err"
[[ -z $(ls -A "$out") ]] || fail "without .deps/gpu, wrote to OUT: $(ls -A "$out")"
status=0
OUT= bash "$root/scripts/gpu-session.sh" >/dev/null 2>&1 || status=$?
((status != 0)) || fail "without OUT: exit 0"
echo "check-gpu-session: ok"
