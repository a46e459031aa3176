#!/usr/bin/env bash
# Configures and builds into build/ (or $P4S_BUILD_DIR). Extra arguments go to cmake's
# configure step, e.g. -DP4S_WITH_TORCH=OFF.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${P4S_BUILD_DIR:-$root/build}
generator=()
if [[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$root" -B "$build" "${generator[@]}" "$@"
cmake --build "$build" --parallel "$(nproc)"
