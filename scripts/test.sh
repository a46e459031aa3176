#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs the whole test
# suite with ctest (with a count of the tests run and skipped, by reason); then the sanitizer
# build of the torch-free parts with its tests and short fuzz runs (scripts/sanitize.sh;
# P4S_SKIP_SANITIZE=1 leaves that step out).
#
#   scripts/test.sh                 builds what this machine can (LibTorch, CUPTI: where found)
#   scripts/test.sh --require-all   LibTorch and the CUDA toolkit's CUPTI are required (configure
#                                   fails, naming what is missing, without them), and a test
#                                   may skip only for want of a GPU: what CI runs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${P4S_BUILD_DIR:-$root/build}
configure=()
for arg in "$@"; do
  case $arg in
    --require-all)
      export P4S_REQUIRE_ALL=1
      configure=(-DP4S_WITH_TORCH=ON -DP4S_WITH_CUPTI=ON)
      ;;
    *) echo "test.sh: unknown argument '$arg' (the one switch is --require-all)" >&2; exit 2 ;;
  esac
done
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "${configure[@]}"
"$root/scripts/run-ctest.sh" "$build"
if [[ "${P4S_SKIP_SANITIZE:-0}" != 1 ]]; then
  "$root/scripts/sanitize.sh"
fi
