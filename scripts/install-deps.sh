#!/usr/bin/env bash
# Installs, on Debian or Ubuntu, exactly the packages this project needs that are missing.
# Uses sudo when not root. CUDA is never installed: it is detected at configure time.
set -euo pipefail

packages=(
  g++ cmake ninja-build        # compiler and build
  libtorch-dev                 # LibTorch (CPU build on Debian): builder and bench
  libbenchmark-dev             # Google Benchmark: bench
  libgtest-dev libgmock-dev    # GoogleTest: tests
  libarmadillo-dev             # Armadillo: fit
  nlohmann-json3-dev           # JSON
  gnuplot-nox                  # plots in fit reports
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
