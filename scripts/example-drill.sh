#!/usr/bin/env bash
# The install drill: what a user of the installed package does, from a built build folder.
# Builds nothing of the project itself:
#
#   1. cmake --install BUILD_DIR into a scratch prefix, and lists what it installed;
#   2. examples/tiny_resnet configured against that prefix alone (find_package(perf4sight ...
#      COMPONENTS bench_plugin)), built, and run on its network's cases and a few layer cases,
#      writing results JSON and the network's NetSpec (--p4s_netspec_out);
#   3. the installed p4s fits a model on them and predicts tiny_resnet (--json);
#   4. a second consumer, written here, that finds perf4sight with LibTorch kept out of reach
#      (CMAKE_DISABLE_FIND_PACKAGE_Torch) and links only perf4sight::fit: the torch-free part
#      stands alone. It reads the model of step 3. And asking for bench_plugin there must fail.
#
#   scripts/example-drill.sh [BUILD_DIR [WORK_DIR]]     (BUILD_DIR: build/ by default)
#
# WORK_DIR (emptied first, kept afterwards) holds the prefix, the builds, the results and a log
# per step; without it a temporary folder is used and removed when the drill passes. LibTorch
# and the other dependencies are found as the build found them (its cached Torch_DIR,
# benchmark_DIR, nlohmann_json_DIR, CUDAToolkit_ROOT and CMAKE_PREFIX_PATH, and
# CMAKE_PREFIX_PATH from the environment), with the build's compiler.
# Exits 0 when every step passes; otherwise 1 with a line saying which step failed, after the
# end of that step's log. ctest runs it (tests/install, label "install") where the build has
# the LibTorch part.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}

fail() { echo "example-drill: FAILED: $*" >&2; exit 1; }
[[ -f "$build/CMakeCache.txt" ]] || fail "$build is not a configured build folder (no CMakeCache.txt)"
build=$(cd "$build" && pwd)

if [[ $# -ge 2 ]]; then
  work=$2
  # Emptied only if it is a drill's own (its marker file) or empty: never a folder of other things.
  if [[ -d "$work" && ! -f "$work/.example-drill" && -n "$(ls -A "$work")" ]]; then
    fail "$work exists and is no example-drill folder: give a new or empty one"
  fi
  rm -rf "$work"
  mkdir -p "$work"
  touch "$work/.example-drill"
  work=$(cd "$work" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/p4s-example-drill.XXXXXX")
  trap '[[ $? -eq 0 ]] && rm -rf "$work" || echo "example-drill: its files are in $work" >&2' EXIT
fi
prefix=$work/prefix

# run LOG REASON COMMAND...: the command's output to LOG; on failure, LOG's end, then REASON.
run() {
  local log=$1 reason=$2 status=0
  shift 2
  "$@" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    fail "$reason (exit status $status; log: $log)"
  fi
}
cached() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n 1; }

# A consumer is configured as the build was: its compiler (the libraries' C++ ABI), its
# LibTorch and the other dependencies' folders (as the build was given them: its cache, and the
# environment's CMAKE_PREFIX_PATH, which the consumers inherit too); Ninja where there is one.
configure_args=(-DCMAKE_CXX_COMPILER="$(cached CMAKE_CXX_COMPILER)")
if command -v ninja >/dev/null; then configure_args+=(-G Ninja); fi
prefix_path=$prefix
[[ -n "$(cached CMAKE_PREFIX_PATH)" ]] && prefix_path+=";$(cached CMAKE_PREFIX_PATH)"
[[ -n "${CMAKE_PREFIX_PATH:-}" ]] && prefix_path+=";${CMAKE_PREFIX_PATH//:/;}"
configure_args+=("-DCMAKE_PREFIX_PATH=$prefix_path")
for var in Torch_DIR benchmark_DIR nlohmann_json_DIR CUDAToolkit_ROOT; do
  value=$(cached "$var")
  if [[ -n "$value" && "$value" != *NOTFOUND ]]; then configure_args+=("-D$var=$value"); fi
done

echo "== 1. cmake --install $build --prefix $prefix"
run "$work/install.log" "cmake --install failed (is $build built?)" cmake --install "$build" --prefix "$prefix"
# The files, a folder's headers as one line.
(cd "$prefix" && find . -type f | sed 's|^\./||' | sort |
  awk -F/ '/\.hpp$/ { dir = $0; sub(/\/[^\/]*$/, "", dir); headers[dir]++; next }
           { print "  " $0 }
           END { for (d in headers) printf "  %s/ (%d headers)\n", d, headers[d] }' | sort)
for f in bin/p4s bin/bench lib/cmake/perf4sight/perf4sight-config.cmake \
         lib/cmake/perf4sight/perf4sight-config-version.cmake lib/cmake/perf4sight/perf4sight-core-targets.cmake \
         lib/cmake/perf4sight/perf4sight-torch-targets.cmake include/perf4sight/benchmark.hpp \
         include/perf4sight/predictors/model_file.hpp; do
  [[ -f "$prefix/$f" ]] || fail "the install has no $f (was this build made with LibTorch?)"
done
run "$work/bench-list.log" "the installed bench does not start" "$prefix/bin/bench" --benchmark_list_tests

echo "== 2. examples/tiny_resnet against the install"
example=$work/tiny_resnet
run "$work/example-configure.log" "examples/tiny_resnet does not configure against the install" \
  cmake -S "$root/examples/tiny_resnet" -B "$example" "${configure_args[@]}"
run "$work/example-build.log" "examples/tiny_resnet does not build against the install" \
  cmake --build "$example" --parallel "$(nproc)"
# Its three network cases and six of the layer cases (a few seconds on one CPU thread).
filter='^Net/tiny_resnet/|^(Conv2d/cin:64/cout:64/k:3/|Linear/in:512/|BatchNorm2d/c:64/).*/bs:(1|4)/'
run "$work/example-run.log" "tiny_resnet did not run its cases" \
  "$example/tiny_resnet" --p4s_threads=1 "--benchmark_filter=$filter" \
  --benchmark_out="$work/results.json" --benchmark_out_format=json --p4s_netspec_out="$work/nets"
for bs in 2 8 16; do
  grep -q "\"name\": \"Net/tiny_resnet/bs:$bs/" "$work/results.json" ||
    fail "results.json has no Net/tiny_resnet/bs:$bs case"
done
[[ -f "$work/nets/tiny_resnet.json" ]] || fail "--p4s_netspec_out wrote no nets/tiny_resnet.json"
echo "  $(grep -c '"name": ' "$work/results.json") results entries; nets/: $(cd "$work/nets" && echo *)"

echo "== 3. the installed p4s: fit, predict"
run "$work/fit.log" "p4s fit failed on the example's results" \
  "$prefix/bin/p4s" fit --out "$work/model.json" --netspecs "$work/nets" "$work/results.json"
run "$work/predict.log" "p4s predict --json failed for tiny_resnet" \
  "$prefix/bin/p4s" predict --model "$work/model.json" --batch 4 --netspecs "$work/nets" --json tiny_resnet
grep -Eq '"net": ?"tiny_resnet"' "$work/predict.log" || fail "the prediction does not name tiny_resnet: $(head -c 300 "$work/predict.log")"
echo "  $(cat "$work/predict.log")"

echo "== 4. a torch-free consumer of perf4sight::fit, LibTorch out of reach"
consumer=$work/core_consumer
mkdir -p "$consumer"
cat >"$consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.18)
project(perf4sight_fit_consumer LANGUAGES CXX)
find_package(perf4sight 0.1 CONFIG REQUIRED)
if(TARGET perf4sight::bench_plugin OR TARGET torch OR perf4sight_bench_plugin_FOUND)
  message(FATAL_ERROR "LibTorch's part was loaded although Torch was out of reach")
endif()
add_executable(fit_consumer main.cpp)
target_link_libraries(fit_consumer PRIVATE perf4sight::fit)
EOF
cat >"$consumer/main.cpp" <<'EOF'
// Reads a model file and says its method and targets: the torch-free library alone.
#include <iostream>

#include "predictors/model_file.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const p4s::predictors::ModelFile model = p4s::predictors::read_model(argv[1]);
  std::cout << p4s::predictors::method_name(model.method());
  for (const p4s::results::Target t : model.targets()) std::cout << ' ' << p4s::results::target_name(t);
  std::cout << '\n';
  return 0;
}
EOF
run "$work/consumer-configure.log" "find_package(perf4sight) without LibTorch does not configure" \
  cmake -S "$consumer" -B "$consumer/build" "${configure_args[@]}" -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON
run "$work/consumer-build.log" "the perf4sight::fit consumer does not build" cmake --build "$consumer/build"
run "$work/consumer-run.log" "the perf4sight::fit consumer does not read the model" \
  "$consumer/build/fit_consumer" "$work/model.json"
grep -q '^p4s .*latency_ms' "$work/consumer-run.log" || fail "the perf4sight::fit consumer printed: $(head -c 300 "$work/consumer-run.log")"
echo "  $(cat "$work/consumer-run.log")"
# COMPONENTS bench_plugin, LibTorch out of reach: configuring must fail, saying that Torch is missing.
mkdir -p "$work/plugin_consumer"
sed 's/CONFIG REQUIRED)/CONFIG REQUIRED COMPONENTS bench_plugin)/' "$consumer/CMakeLists.txt" \
  >"$work/plugin_consumer/CMakeLists.txt"
if cmake -S "$work/plugin_consumer" -B "$work/plugin_consumer/build" "${configure_args[@]}" \
     -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON >"$work/plugin-consumer.log" 2>&1; then
  fail "find_package(perf4sight COMPONENTS bench_plugin) succeeded with LibTorch out of reach"
fi
grep -q 'needs what was not found: LibTorch' "$work/plugin-consumer.log" ||
  fail "find_package(perf4sight COMPONENTS bench_plugin) without LibTorch failed without naming Torch (log: $work/plugin-consumer.log)"
echo "  COMPONENTS bench_plugin without LibTorch: refused, naming Torch"

echo "example-drill: passed"
