#!/usr/bin/env bash
# Regenerates the model and evaluation report of every results folder from its data:
#   results/<device>/<stack>/*.json (Google Benchmark results; model.json excluded)
#   results/<device>/<stack>/netspecs/ (NetSpecs of networks that are not built in)
# -> model.json and report/ in the same folder. Where the folder has held-out/ (result files of
# networks the model is not fitted on, with their netspecs/), the model and a perf4sight
# baseline fitted on the same data are evaluated on them: held-out/report/ (p4s evaluate); and
# the folder's and held-out/'s data fitted together give all-families/model.json and report/.
# With --check, writes nothing and fails (exit 3) when a committed model, report.md or
# evaluation.json differs in any way from what its data give, naming the file and its first
# difference (plots through their points' digests in evaluation.json). CI runs that.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
p4s=${P4S:-$root/build/cli/p4s}
[[ -x "$p4s" ]] || { echo "regenerate-models: $p4s not found; build first (scripts/build.sh) or set P4S" >&2; exit 2; }
check=()
[[ "${1:-}" == "--check" ]] && check=(--check)

cd "$root"  # paths in reports are relative to the repository
# p4s's output under each folder's heading, without its blank lines.
indented() { grep -v '^$' | sed 's/^/   /'; }
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
    > >(indented) || status=$?
  held="$dir/held-out"
  mapfile -t held_data < <(find "$held" -maxdepth 1 -name '*.json' 2>/dev/null | sort)
  ((${#held_data[@]})) || continue
  held_netspecs=()
  [[ -d "$held/netspecs" ]] && held_netspecs=(--netspecs "$held/netspecs")
  baseline=$(mktemp --suffix=.json)
  echo "== $held"
  if "$p4s" fit --method perf4sight --out "$baseline" "${netspecs[@]}" "${data[@]}" > /dev/null; then
    "$p4s" evaluate --model "$dir/model.json" --model "$baseline" "${held_netspecs[@]}" --report "$held/report" \
      "${check[@]}" "${held_data[@]}" > >(indented) || status=$?
  else
    status=1
  fi
  rm -f "$baseline"
  # Every family of the folder, its own and held-out/'s, fitted together: the model to predict
  # other networks with, and leave-one-family-out over all of them (all-families/).
  all="$dir/all-families"
  echo "== $all"
  ((${#check[@]})) || mkdir -p "$all"
  "$p4s" fit --out "$all/model.json" "${netspecs[@]}" "${held_netspecs[@]}" --report "$all/report" "${check[@]}" \
    "${data[@]}" "${held_data[@]}" > >(indented) || status=$?
done < <(find results -mindepth 2 -maxdepth 2 -type d | sort)
((found)) || { echo "regenerate-models: no results folders under $root/results" >&2; exit 2; }
exit $status
