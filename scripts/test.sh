#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs the whole test
# suite with ctest; then the sanitizer build of the torch-free parts with its tests and short
# fuzz runs (scripts/sanitize.sh; P4S_SKIP_SANITIZE=1 leaves that step out).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${P4S_BUILD_DIR:-$root/build}
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
"$root/scripts/run-ctest.sh" "$build"
if [[ "${P4S_SKIP_SANITIZE:-0}" != 1 ]]; then
  "$root/scripts/sanitize.sh"
fi
