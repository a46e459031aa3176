#!/usr/bin/env bash
# Configures and builds into build/ (or $P4S_BUILD_DIR) against the LibTorch that P4S_LIBTORCH
# chooses (scripts/libtorch-choice.sh). Extra arguments go to cmake's configure step, e.g.
# -DP4S_WITH_TORCH=OFF. A build folder keeps the choice it was configured with: another
# choice needs another folder (P4S_BUILD_DIR).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/libtorch-choice.sh
source "$root/scripts/libtorch-choice.sh"
build=${P4S_BUILD_DIR:-$root/build}
generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
if [[ -f "$build/CMakeCache.txt" ]]; then
  was=$(sed -n 's/^P4S_LIBTORCH_CHOICE:STRING=//p' "$build/CMakeCache.txt")
  if [[ -n $was && $was != "$P4S_LIBTORCH" ]]; then
    echo "build: $build was configured with P4S_LIBTORCH=$was, not $P4S_LIBTORCH: choose another folder with P4S_BUILD_DIR, or remove it" >&2
    exit 2
  fi
fi
mapfile -t torch_args < <(p4s_libtorch_cmake_args)
cmake -S "$root" -B "$build" "${generator[@]}" "-DP4S_LIBTORCH_CHOICE=$P4S_LIBTORCH" "${torch_args[@]}" "$@"
cmake --build "$build" --parallel "$(nproc)"
