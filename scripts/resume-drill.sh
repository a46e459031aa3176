#!/usr/bin/env bash
# The resume drill: a sweep killed with SIGKILL at random moments, KILLS times, each time
# resumed with --p4s_resume, then finished; its entries against those of the same sweep run
# without interruption. Prints what each kill left on disk and whether the two files hold the
# same entries (no case lost, none measured twice); exit 0 when they do.
#
#   scripts/resume-drill.sh [OUT_DIR]     (environment: BENCH (default build/bench/bench),
#                                          KILLS (3), FILTER, SEED (random))
# Other bench flags may follow OUT_DIR, e.g. --p4s_sweep=standard.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=${BENCH:-$root/build/bench/bench}
out=${1:-$root/out/resume-drill}
shift || true
kills=${KILLS:-3}
filter=${FILTER:-^(Conv2d|Linear|BatchNorm2d)/.*bs:(1|4)/|^Net/}
RANDOM=${SEED:-$$}
mkdir -p "$out"
rm -f "$out/whole.json" "$out/killed.json"
args=(--p4s_threads=1 "--benchmark_filter=$filter" "$@")

cases() { grep -o '"name": "[^"]*"' "$1" | sed 's/"name": //' | sort; }

start=$(date +%s.%N)
"$bench" "${args[@]}" --benchmark_out="$out/whole.json" >/dev/null 2>"$out/whole.log"
whole_s=$(echo "$(date +%s.%N) - $start" | bc)
total=$(cases "$out/whole.json" | wc -l)
echo "uninterrupted: $total entries in ${whole_s%.*} s"

for k in $(seq 1 "$kills"); do
  # A moment between 10% and 70% of what the rest of the sweep should take, so that each kill
  # lands mid-sweep (drawn here, not in a subshell, which would repeat the same number).
  share=$((RANDOM % 61 + 10))
  on_disk=$([ -f "$out/killed.json" ] && cases "$out/killed.json" | wc -l || echo 0)
  wait_s=$(echo "scale=2; $whole_s * ($total - $on_disk) / $total * $share / 100" | bc)
  "$bench" "${args[@]}" --p4s_resume --benchmark_out="$out/killed.json" >/dev/null 2>>"$out/killed.log" &
  pid=$!
  sleep "$wait_s"
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "kill $k: SIGKILL after $wait_s s: $( [ -f "$out/killed.json" ] && cases "$out/killed.json" | wc -l || echo 0) entries on disk"
  else
    wait "$pid" || true
    echo "kill $k: the sweep had ended before $wait_s s"
  fi
done
"$bench" "${args[@]}" --p4s_resume --benchmark_out="$out/killed.json" >/dev/null 2>>"$out/killed.log"
resumes=$(sed -n 's/.*"p4s_resumes": "\([0-9]*\)".*/\1/p' "$out/killed.json")
echo "resumed to the end: $(cases "$out/killed.json" | wc -l) entries; the file says it was resumed ${resumes:-0} times"

# The entries' names with their multiplicity (repetitions and aggregates included): a case
# lost or measured twice shows as a difference.
if diff <(cases "$out/whole.json") <(cases "$out/killed.json") >/dev/null; then
  echo "same entries as the uninterrupted sweep: no case lost, none measured twice"
else
  echo "DIFFERENT: $(diff <(cases "$out/whole.json") <(cases "$out/killed.json") | grep -c '^[<>]') entries differ"
  exit 1
fi
