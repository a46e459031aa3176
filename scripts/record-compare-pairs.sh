#!/usr/bin/env bash
# Records the real pairs of result files that `p4s compare` is tested on
# (tests/data/compare/<pair>/{old.json,new.json,expect.json}; tests/data/compare/README.md):
#   same-sweep     the same layer sweep in three processes a side: no change expected
#   threads-1-2    the same layer sweep at --p4s_threads=1, then 2: latency must be lower
#   mem-limit      the quick sweep's networks, then again under --p4s_mem_limit: the largest
#                  cases must stop running
# Run it on a quiet machine (nothing else busy): the pairs are measurements. About 5 minutes on
# 2 cores. Writes into the folder given (default tests/data/compare), replacing those pairs.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=${BENCH:-$root/build/bench/bench}
out=${1:-$root/tests/data/compare}
[[ -x "$bench" ]] || { echo "record-compare-pairs: $bench not found; build first (scripts/build.sh) or set BENCH" >&2; exit 2; }
[[ -d "$out" ]] || { echo "record-compare-pairs: $out is not a folder" >&2; exit 2; }

# Layer cases at batches 1 and 4 (quick sweep's shapes): fast, and every kind of layer.
layers='^(Conv2d|Linear|BatchNorm2d)/.*/bs:(1|4)/'
# Keep every repetition in the JSON: compare's Mann-Whitney U test needs them.
reps=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=false
      --benchmark_display_aggregates_only=true --benchmark_out_format=json)

run() {  # run FILE ARGS...: one bench run into FILE, written atomically by bench
  local file=$1
  shift
  echo "record-compare-pairs: $file" >&2
  "$bench" "${reps[@]}" "$@" --benchmark_out="$file" >/dev/null
}

mkdir -p "$out/same-sweep" "$out/threads-1-2" "$out/mem-limit"

# Three processes a side, alternating: on a VM the same case can differ by a third from one
# process to the next (physical memory placement) while the repetitions within a process agree
# within a few percent, so one process a side would test only the latter.
rm -rf "$out/same-sweep/old" "$out/same-sweep/new" "$out/same-sweep/old.json" "$out/same-sweep/new.json"
mkdir -p "$out/same-sweep/old" "$out/same-sweep/new"
for i in 1 2 3; do
  run "$out/same-sweep/old/run$i.json" --benchmark_filter="$layers" --p4s_threads=1
  run "$out/same-sweep/new/run$i.json" --benchmark_filter="$layers" --p4s_threads=1
done
cat > "$out/same-sweep/expect.json" <<'EOF'
{"kind": "same_sweep", "threshold_pct": 25, "max_geomean_pct": 5, "max_significant_share": 0.4,
 "metrics": ["latency_ms", "mem_alloc"],
 "reason": "the quick sweep's layer cases at batches 1 and 4, 5 repetitions, --p4s_threads=1, three processes a side, alternating; the limits are this VM's process-to-process spread. mem_used (resident memory) of these small cases moves by several MiB with the heap's layout (+36% on a 19 MiB case), so it is left out here"}
EOF

run "$out/threads-1-2/old.json" --benchmark_filter="$layers" --p4s_threads=1
run "$out/threads-1-2/new.json" --benchmark_filter="$layers" --p4s_threads=2
cat > "$out/threads-1-2/expect.json" <<'EOF'
{"kind": "known_change", "metric": "latency_ms", "direction": "lower", "min_share": 0.5,
 "min_geomean_pct": 15, "reason": "--p4s_threads=1 against --p4s_threads=2 on a 2-core machine"}
EOF

# 150 MiB of live tensors stops the quick sweep's largest networks on the CPU (ResNet-18 and
# MobileNetV2 at CIFAR size; their peaks are 155 to 182 MiB).
run "$out/mem-limit/old.json" --benchmark_filter='^Net/' --p4s_threads=1 --benchmark_repetitions=3
run "$out/mem-limit/new.json" --benchmark_filter='^Net/' --p4s_threads=1 --benchmark_repetitions=3 \
    --p4s_mem_limit=150M
cat > "$out/mem-limit/expect.json" <<'EOF'
{"kind": "known_change", "min_stopped_running": 3,
 "reason": "the quick sweep's networks without a memory limit, then with --p4s_mem_limit=150M"}
EOF
echo "record-compare-pairs: done; check them with: ctest --test-dir build -R ComparePairs" >&2
