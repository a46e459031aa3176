#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs the whole test
# suite with ctest (with a count of the tests run and skipped, by reason); then the sanitizer
# build of the torch-free parts with its tests and short fuzz runs (scripts/sanitize.sh;
# P4S_SKIP_SANITIZE=1 leaves that step out). LibTorch as P4S_LIBTORCH chooses (wheel or
# distro; scripts/libtorch-choice.sh).
#
#   scripts/test.sh                 builds what this machine can (LibTorch, CUPTI: where found)
#   scripts/test.sh --require-all   LibTorch and the CUDA toolkit's CUPTI are required, and with
#                                   the wheel's LibTorch the CUDA path too (configure fails,
#                                   naming what is missing, without them); a test may skip only
#                                   for want of a GPU: what CI runs
#   scripts/test.sh --torch-only    only the tests that need LibTorch are built and run (ctest
#                                   -L torch; the install drill is left to the first), and no
#                                   sanitizer step: a second LibTorch's check, whose torch-free
#                                   parts the first one's run has tested
#
# Both LibTorch choices, as CI checks them:
#   scripts/test.sh --require-all
#   P4S_LIBTORCH=distro P4S_BUILD_DIR=build-distro scripts/test.sh --require-all --torch-only
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/libtorch-choice.sh
source "$root/scripts/libtorch-choice.sh"
build=${P4S_BUILD_DIR:-$root/build}
configure=() ctest_args=() torch_only=0
for arg in "$@"; do
  case $arg in
    --require-all)
      export P4S_REQUIRE_ALL=1
      configure=(-DP4S_WITH_TORCH=ON -DP4S_WITH_CUPTI=ON)
      [[ $P4S_LIBTORCH == wheel ]] && configure+=(-DP4S_WITH_CUDA=ON)
      ;;
    --torch-only) torch_only=1 ctest_args=(-L torch) ;;
    *) echo "test.sh: unknown argument '$arg' (the switches are --require-all and --torch-only)" >&2; exit 2 ;;
  esac
done
echo "test: LibTorch from the $P4S_LIBTORCH choice, building in $build"
"$root/scripts/install-deps.sh"
((torch_only)) && configure+=(-DP4S_TEST_SCOPE=torch) || configure+=(-DP4S_TEST_SCOPE=all)
"$root/scripts/build.sh" "${configure[@]}"
"$root/scripts/run-ctest.sh" "$build" "${ctest_args[@]}"
if [[ "${P4S_SKIP_SANITIZE:-0}" != 1 ]] && ((!torch_only)); then
  "$root/scripts/sanitize.sh"
fi
