#!/usr/bin/env bash
# The GPU session, on the device machine (an H100 or H200 with PyTorch 2.x for python3, CUDA's
# toolkit, CMake and ninja, and no package registry). The session's device time is short (15
# minutes, the machine's start included), so the default is one `run` call that does what a
# first look at a GPU needs within its budget (P4S_STAGE_BUDGET_S, default 540 s, under the
# call's 10 minutes), writing its logs and results to $OUT as it goes (at most 8 files there,
# none nested): see scripts/README.md for the call and what comes back.
#
#   scripts/gpu-session.sh              (the stage "session") build bench, p4s and the CUPTI
#                                       self-test with every core; the self-test; the quick
#                                       sweep on the GPU with kernel counters and a kernel trace;
#                                       mem_alloc against PyTorch's torch.cuda.max_memory_allocated;
#                                       CUPTI's overhead (capture off/on medians)
#   scripts/gpu-session.sh build-test   configure, build everything, every test (ctest), the
#                                       CUPTI self-test
#   scripts/gpu-session.sh quick        quick sweep, CUPTI's overhead and mem_alloc cross-check
#   scripts/gpu-session.sh standard     the standard sweep: six networks, then the layer cases
#   scripts/gpu-session.sh recipes      training recipes on the GPU (Adam, a frozen prefix, bf16
#                                       and fp16 autocast, the latter with its gradient scaler):
#                                       simulated peak beside measured mem_alloc
#
# A stage builds first where build-gpu/ is missing or stale (a machine given back between calls
# starts bare), so each stage also works alone, at the cost of the build. Needs the carried
# folder .deps/gpu from scripts/gpu/prepare-deps.sh. Exit status 1 when a step failed.
set -uo pipefail
stage=${1:-session}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:?OUT must name the folder whose files come back}
build=$root/build-gpu
work=$(mktemp -d)
deps=$root/.deps/gpu/root
log=$out/$stage.log
start_s=$SECONDS

budget_s=${P4S_STAGE_BUDGET_S:-540}
failures=0

say() { echo "[$((SECONDS - start_s))s] $*" | tee -a "$log"; }
# Runs a step for at most `limit` seconds and never past the stage's budget, its output appended
# to the stage's log; returns its status (124: stopped at its limit).
step() {
  local limit=$1 name=$2
  shift 2
  local left=$((budget_s - (SECONDS - start_s)))
  ((limit > left)) && limit=$left
  if ((limit < 15)); then
    say "== $name: skipped, the stage's budget is spent"
    failures=$((failures + 1))
    return 124
  fi
  say "== $name (at most ${limit}s): $*"
  timeout "$limit" "$@" >>"$log" 2>&1
  local status=$?
  say "== $name: exit $status"
  ((status != 0)) && failures=$((failures + 1))
  return $status
}

[[ -d $deps ]] || { echo "gpu-session: $deps is missing: carry .deps/gpu (scripts/gpu/prepare-deps.sh)" >&2; exit 2; }
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
  { echo "gpu-session: python3 has no torch" >&2; exit 2; }
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export CMAKE_PREFIX_PATH="$deps/usr;$torch_prefix"
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:$deps/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONUNBUFFERED=1

ensure_build() {  # targets to build, or none for all
  if [[ ! -f $build/build.ninja ]]; then
    step 300 configure cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES=90 -DP4S_WITH_TORCH=ON -DP4S_WITH_CUDA=ON -DP4S_WITH_CUPTI=ON \
      -DGTest_DIR="$deps/usr/lib/x86_64-linux-gnu/cmake/GTest" \
      -Dbenchmark_DIR="$deps/usr/lib/x86_64-linux-gnu/cmake/benchmark" \
      -Dnlohmann_json_DIR="$deps/usr/share/cmake/nlohmann_json" || return 1
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  step 420 build cmake --build "$build" --parallel "$(nproc)" "${targets[@]}"
}

# The libcupti LibTorch itself loads, if any: calling CUPTI through the same copy keeps a single
# CUPTI in the bench's process. Kept only if capture comes up with it.
choose_cupti() {
  local torch_cupti
  torch_cupti=$(ldd "$torch_lib"/libtorch_cuda.so "$torch_lib"/libtorch_cpu.so 2>/dev/null |
                awk '/libcupti/ {print $3; exit}')
  if [[ -n $torch_cupti && -f $torch_cupti ]]; then
    export P4S_CUPTI_LIBRARY=$torch_cupti
    if ! "$build/bench/bench" --p4s_device=cuda --benchmark_list_tests 2>&1 >/dev/null |
         grep -q 'kernel capture on'; then
      say "CUPTI of LibTorch ($torch_cupti) gives no capture; using the toolkit's"
      unset P4S_CUPTI_LIBRARY
    fi
  fi
  say "CUPTI: ${P4S_CUPTI_LIBRARY:-as found at configure time (the toolkit)}"
  "$build/bench/bench" --p4s_device=cuda --benchmark_list_tests 2>&1 >/dev/null | tee -a "$log"
}

netspecs() {  # exports built-in networks as NetSpec files into $work/netspecs
  mkdir -p "$work/netspecs"
  for net in "$@"; do
    "$build/cli/p4s" nets export "$net" -o "$work/netspecs/$net.json" >>"$log" 2>&1 ||
      say "could not export $net"
  done
}

netspec_flags() { for f in "$work"/netspecs/*.json; do printf -- '--p4s_netspec=%s\n' "$f"; done; }

environment() {
  {
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
    cmake --version | head -1; ninja --version; c++ --version | head -1; nvcc --version | tail -2
    ldd --version | head -1
  } >"$out/env.txt" 2>&1
}

# The quick sweep with kernel counters and a kernel trace, on the networks in $nets.
quick_sweep() {
  step "$1" quick-sweep "$build/bench/bench" --p4s_device=cuda --p4s_sweep=quick "${nets[@]}" \
    --p4s_kernel_trace="$work/quick_kernel_trace.json" \
    --benchmark_out="$out/quick_cuda.json" --benchmark_out_format=json
  [[ -f $work/quick_kernel_trace.json ]] && gzip -c "$work/quick_kernel_trace.json" >"$out/quick_kernel_trace.json.gz"
}

# mem_alloc against PyTorch's own count for the same training step.
crosscheck() {
  step "$1" crosscheck-bench "$build/bench/bench" --p4s_device=cuda --p4s_sweep=quick "${nets[@]}" \
    --p4s_batch=2,8,32 --p4s_kernel_capture=off --benchmark_filter='^Net/' \
    --benchmark_out="$out/crosscheck_bench.json" --benchmark_out_format=json
  step "$2" crosscheck-torch python3 "$root/scripts/gpu/mem_alloc_crosscheck.py" \
    --bench "$out/crosscheck_bench.json" --out "$out/crosscheck.json" --batch 2,8,32 \
    --warmup 1 --steps 3 "$work"/netspecs/*.json
}

# CUPTI's overhead: the same cases with capture off and on, twice each, alternating, so that a
# drift of the machine shows as a difference between the two runs of one setting.
capture_overhead() {  # seconds per run, repetitions
  local cases='^(Net/[^/]+/bs:(8|32)|Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:16|Conv2d/cin:32/cout:32/k:3/s:1/g:32/hw:112/bs:16|Linear/in:512/out:1000/bs:16|BatchNorm2d/c:64/hw:56/bs:16)/'
  for round in 1 2; do
    for capture in off on; do
      step "$1" "overhead-$capture-$round" "$build/bench/bench" --p4s_device=cuda --p4s_sweep=quick \
        "${nets[@]}" --p4s_batch=8,32 --p4s_kernel_capture=$capture --benchmark_filter="$cases" \
        --benchmark_repetitions="$2" --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true \
        --benchmark_out="$work/capture_${capture}_$round.json" --benchmark_out_format=json
    done
  done
  step 30 overhead-compare python3 "$root/scripts/gpu/capture_overhead.py" --out "$out/capture_overhead.json" \
    --off "$work/capture_off_1.json" "$work/capture_off_2.json" \
    --on "$work/capture_on_1.json" "$work/capture_on_2.json"
}

case $stage in
  session)
    # Eight files: env.txt, session.log, selftest_trace.json, quick_cuda.json,
    # quick_kernel_trace.json.gz, crosscheck_bench.json, crosscheck.json, capture_overhead.json.
    # The most needed first: a step past the budget is skipped, saying so.
    environment
    ensure_build bench p4s p4s_cupti_selftest || { say "build failed"; exit 1; }
    choose_cupti
    step 45 cupti-selftest "$build/cupti/p4s_cupti_selftest" --require_capture \
      --p4s_kernel_trace="$out/selftest_trace.json"
    netspecs resnet18 mobilenetv2 squeezenet1.0
    mapfile -t nets < <(netspec_flags)
    quick_sweep 150
    crosscheck 60 90
    capture_overhead 40 3
    ;;
  build-test)
    environment
    ensure_build || { say "build failed"; exit 1; }
    choose_cupti
    # Its own log: the whole suite's output is long. 60 s are kept for the self-test.
    ctest_s=$((budget_s - (SECONDS - start_s) - 60))
    ((ctest_s > 300)) && ctest_s=300
    say "== ctest (at most ${ctest_s}s), log in ctest.log and ctest.xml"
    (cd "$build" && timeout "$((ctest_s > 15 ? ctest_s : 15))" ctest --output-on-failure --parallel 8 \
        --timeout 240 --output-junit "$out/ctest.xml" >"$out/ctest.log" 2>&1)
    status=$?
    say "== ctest: exit $status"
    ((status != 0)) && failures=$((failures + 1))
    step 60 cupti-selftest "$build/cupti/p4s_cupti_selftest" --require_capture \
      --p4s_kernel_trace="$out/selftest_trace.json"
    ;;
  quick)
    ensure_build bench p4s || { say "build failed"; exit 1; }
    choose_cupti
    netspecs resnet18 mobilenetv2 squeezenet1.0
    mapfile -t nets < <(netspec_flags)
    quick_sweep 180
    capture_overhead 90 5
    crosscheck 90 120
    ;;
  standard)
    ensure_build bench p4s || { say "build failed"; exit 1; }
    choose_cupti
    netspecs resnet18 resnet50 mobilenetv2 squeezenet1.0 googlenet mnasnet1.0
    mapfile -t nets < <(netspec_flags)
    # Two runs, networks first: a run stopped at its limit writes no results, so the part the
    # fit needs most is not put at risk by the longer one.
    step 220 standard-nets "$build/bench/bench" --p4s_device=cuda --p4s_sweep=standard "${nets[@]}" \
      --benchmark_filter='^Net/' --benchmark_out="$out/standard_nets_cuda.json" --benchmark_out_format=json
    step 540 standard-layers "$build/bench/bench" --p4s_device=cuda --p4s_sweep=standard \
      --benchmark_filter='^(Conv2d|Linear|BatchNorm2d)/' \
      --benchmark_out="$out/standard_layers_cuda.json" --benchmark_out_format=json
    ;;
  recipes)
    ensure_build bench p4s || { say "build failed"; exit 1; }
    # The table to $OUT (step sends a command's output to the log).
    step 480 recipes env DEVICE=cuda BATCHES=8,32 RECIPES=default,adam,adam-late,bf16,bf16-adamw-late,fp16 \
      BENCH="$build/bench/bench" P4S="$build/cli/p4s" \
      bash -c '"$0" "$1" >"$2"' "$root/scripts/measure-recipes.sh" "$work/recipes" "$out/recipes.md"
    tar -czf "$out/recipes_cuda.tar.gz" -C "$work" recipes
    ;;
  *)
    echo "gpu-session: unknown stage '$stage' (session, the default; build-test, quick, standard, recipes)" >&2
    exit 2
    ;;
esac
say "stage $stage done, $failures step(s) failed"
rm -rf "$work"
((failures == 0))
