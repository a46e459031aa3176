#!/usr/bin/env bash
# Regenerates the model and evaluation report of every results folder from its data:
#   results/<device>/<stack>/*.json (Google Benchmark results; model.json excluded)
#   results/<device>/<stack>/netspecs/ (NetSpecs of networks that are not built in)
# -> model.json and report/ in the same folder.
# With --check, writes nothing and fails (exit 3) when a committed model differs from what its
# data gives, or its held-out accuracy is worse than the committed report says. CI runs that.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
p4s=${P4S:-$root/build/cli/p4s}
[[ -x "$p4s" ]] || { echo "regenerate-models: $p4s not found; build first (scripts/build.sh) or set P4S" >&2; exit 2; }
check=()
[[ "${1:-}" == "--check" ]] && check=(--check)

cd "$root"  # paths in reports are relative to the repository
status=0
found=0
while IFS= read -r dir; do
  mapfile -t data < <(find "$dir" -maxdepth 1 -name '*.json' ! -name model.json | sort)
  ((${#data[@]})) || continue
  found=1
  netspecs=()
  [[ -d "$dir/netspecs" ]] && netspecs=(--netspecs "$dir/netspecs")
  echo "== $dir"
  "$p4s" fit --out "$dir/model.json" "${netspecs[@]}" --report "$dir/report" "${check[@]}" "${data[@]}" \
    > >(grep -v '^$' | sed 's/^/   /') || status=$?
done < <(find results -mindepth 2 -maxdepth 2 -type d | sort)
((found)) || { echo "regenerate-models: no results folders under $root/results" >&2; exit 2; }
exit $status
