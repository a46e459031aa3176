#!/usr/bin/env bash
# Installs, on Debian or Ubuntu, exactly the packages this project needs that are missing.
# Uses sudo when not root. CUDA is never installed: it is detected at configure time.
# LibTorch as P4S_LIBTORCH chooses (scripts/libtorch-choice.sh): the distribution's
# libtorch-dev, or the wheel's LibTorch 2.x, unpacked by scripts/install-libtorch.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/libtorch-choice.sh
source "$root/scripts/libtorch-choice.sh"

packages=(
  g++ cmake ninja-build        # compiler and build
  libbenchmark-dev             # Google Benchmark: bench
  libgtest-dev libgmock-dev    # GoogleTest: tests
  libarmadillo-dev             # Armadillo: fit
  nlohmann-json3-dev           # JSON
  gnuplot-nox                  # plots in fit reports
)
if [[ $P4S_LIBTORCH == distro ]]; then
  packages+=(libtorch-dev)     # LibTorch (CPU build on Debian): builder and bench
else
  packages+=(unzip)            # unpacks the wheel (pip only downloads it)
  python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
fi
# Wanted, not required: installed where the distribution has them, and the steps that need
# them say so and are skipped where it has not (scripts/sanitize.sh, scripts/fuzz.sh).
optional=(
  clang                        # libFuzzer targets (fuzz/)
  libclang-rt-dev              # libFuzzer itself on Debian 12 and Ubuntu 24.04 (Ubuntu 22.04's
                               # clang carries it in libclang-common-14-dev)
)

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]; }

missing=() missing_optional=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${optional[@]}"; do installed "$p" || missing_optional+=("$p"); done

libtorch() {
  if [[ $P4S_LIBTORCH == wheel ]]; then "$root/scripts/install-libtorch.sh"; fi
}

if ((${#missing[@]} + ${#missing_optional[@]} == 0)); then
  echo "install-deps: all $((${#packages[@]} + ${#optional[@]})) packages are present"
  libtorch
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    ((${#missing[@]} == 0)) || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    echo "install-deps: optional packages missing (no root or sudo to install them): ${missing_optional[*]}"
    libtorch
    exit 0
  fi
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# apt's and dpkg's lines (thousands on a fresh machine) go to a file and are shown only when a
# step fails, so that the rest of a CI log stays readable.
apt_log=$(mktemp "${TMPDIR:-/tmp}/p4s-install-deps.XXXXXX")
trap 'rm -f "$apt_log"' EXIT
quietly() {
  if ! "$@" >"$apt_log" 2>&1; then
    tail -n 40 "$apt_log" >&2
    return 1
  fi
}
"${sudo[@]}" apt-get update -qq
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  quietly "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { echo "install-deps: apt-get install failed (its last lines above)" >&2; exit 1; }
fi
available=()
for p in "${missing_optional[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then available+=("$p"); else
    echo "install-deps: optional package $p is not in this distribution: skipped"
  fi
done
if ((${#available[@]})); then
  echo "install-deps: installing optional ${available[*]}"
  quietly "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${available[@]}" ||
    echo "install-deps: could not install optional ${available[*]}: the steps that need them will be skipped"
fi
libtorch
