#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/; clang, ASan + UBSan, torch-free) in their own build folder
# and runs each one in turn.
#
#   scripts/fuzz.sh                      every target for 60 seconds
#   scripts/fuzz.sh 600                  every target for 600 seconds
#   scripts/fuzz.sh -runs=20000          every target for 20000 inputs
#   scripts/fuzz.sh 600 results_fuzzer   only the targets named
#   scripts/fuzz.sh --build-only         configure and build, run nothing
#   scripts/fuzz.sh --no-build ...       run what is built
#   scripts/fuzz.sh --compiler           print the clang++ that will be used; status 1 if none
#
# Inputs that reach new code are kept in <build>/fuzz/corpus/<target>/ (the seeds in
# fuzz/corpus/ are only read); crashes land in <build>/fuzz/crashes/, logs in <build>/fuzz/logs/.
# A crash reproduces with `<build>/fuzz/<target> <crash file>`. Exit status: 0 when no target
# crashed, 1 otherwise, 2 for bad arguments.
# Environment: P4S_FUZZ_BUILD_DIR (default build-fuzz/); P4S_FUZZ_CXX (the only clang++ tried;
# "none" for none); P4S_FUZZ_TIMEOUT (seconds one input may take, default 10); P4S_FUZZ_FLAGS
# (more libFuzzer flags, e.g. "-seed=1 -use_value_profile=1").
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${P4S_FUZZ_BUILD_DIR:-$root/build-fuzz}

# The first clang++ that links a libFuzzer program (clang alone lacks libFuzzer on Debian:
# it is in libclang-rt-dev).
find_compiler() {
  local probe cxx
  probe=$(mktemp -d)
  printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
    'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }' >"$probe/p.cpp"
  local candidates=(clang++ clang++-{20,19,18,17,16,15,14})
  if [[ -n "${P4S_FUZZ_CXX:-}" ]]; then candidates=("$P4S_FUZZ_CXX"); fi
  for cxx in "${candidates[@]}"; do
    if command -v "$cxx" >/dev/null &&
       "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>/dev/null; then
      rm -rf "$probe"
      command -v "$cxx"
      return 0
    fi
  done
  rm -rf "$probe"
  return 1
}

build_fuzzers() {
  local cxx
  cxx=$(find_compiler) || {
    echo "fuzz: no clang++ with libFuzzer found (scripts/install-deps.sh installs clang and libclang-rt-dev)" >&2
    exit 1
  }
  local generator=()
  if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
  # -O1 without NDEBUG: fast enough to fuzz, and the code's own assertions stay on; line
  # tables are all that sanitizer reports need, and build much faster than full debug info.
  # With P4S_REQUIRE_ALL=1 (scripts/test.sh --require-all) the real CUPTI code is required.
  local cupti=AUTO
  [[ "${P4S_REQUIRE_ALL:-0}" == 1 ]] && cupti=ON
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
    -DP4S_FUZZ=ON -DP4S_WITH_TORCH=OFF -DP4S_WITH_CUPTI="$cupti" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" >/dev/null
  cmake --build "$build" --parallel "$(nproc)" "$@"
}

limit=(-max_total_time=60) names=() do_build=1 run=1
for arg in "$@"; do
  case "$arg" in
    --compiler) find_compiler; exit $? ;;
    --build-only) run=0 ;;
    --no-build) do_build=0 ;;
    -runs=[0-9]*) limit=("$arg") ;;
    [0-9]*) [[ "$arg" =~ ^[0-9]+$ ]] || { echo "fuzz: bad duration '$arg'" >&2; exit 2; }
            limit=(-max_total_time="$arg") ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option '$arg' (see --help)" >&2; exit 2 ;;
    *) names+=("$arg") ;;
  esac
done

if ((do_build)); then
  if ((run)); then build_fuzzers --target p4s_fuzzers; else build_fuzzers; fi
fi
((run)) || exit 0

manifest=$build/fuzz/fuzzers.tsv
[[ -f "$manifest" ]] || { echo "fuzz: $manifest is missing: build first" >&2; exit 1; }
mkdir -p "$build/fuzz/crashes" "$build/fuzz/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
read -r -a extra <<<"${P4S_FUZZ_FLAGS:-}"

failed=() ran=0
while IFS=$'\t' read -r name exe seeds dict max_len; do
  if ((${#names[@]})) && [[ " ${names[*]} " != *" $name "* ]]; then continue; fi
  ran=$((ran + 1))
  big=$(find "$seeds" -type f -size +"${max_len}"c)
  if [[ -n "$big" ]]; then
    echo "fuzz: $name: seeds longer than its max_len of $max_len bytes would be cut: $big" >&2
    failed+=("$name")
    continue
  fi
  corpus=$build/fuzz/corpus/$name
  log=$build/fuzz/logs/$name.log
  mkdir -p "$corpus"
  start=$SECONDS
  dict_flag=()
  if [[ "$dict" != - ]]; then dict_flag=(-dict="$dict"); fi
  if "$exe" "${dict_flag[@]}" -max_len="$max_len" -timeout="${P4S_FUZZ_TIMEOUT:-10}" \
       -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/fuzz/crashes/$name-" \
       "${limit[@]}" "${extra[@]}" "$corpus" "$seeds" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^#[0-9]+[[:space:]]+[A-Z]+[[:space:]]+//')
    printf 'fuzz: %-20s %9s inputs in %4ss: %s\n' "$name" "$runs" "$((SECONDS - start))" "$last"
  else
    echo "fuzz: $name FAILED after $((SECONDS - start))s; the end of $log:" >&2
    tail -n 40 "$log" >&2
    failed+=("$name")
  fi
done <"$manifest"

((ran > 0)) || { echo "fuzz: no target named ${names[*]}" >&2; exit 2; }
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (crash inputs in $build/fuzz/crashes/)" >&2
  exit 1
fi
