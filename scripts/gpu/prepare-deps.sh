#!/usr/bin/env bash
# Unpacks, on a Debian machine with apt, the packages a full build needs that the GPU machine
# lacks (it has no package registry): Google Benchmark, GoogleTest/GoogleMock, nlohmann-json,
# and Armadillo with the reference BLAS/LAPACK it runs on (the fit stage and the p4s command).
# The result, DIR/root (about 25 MB), travels with the `run` call as a carried folder; there
# scripts/gpu-session.sh points CMAKE_PREFIX_PATH and LD_LIBRARY_PATH at it.
# Usage: scripts/gpu/prepare-deps.sh DIR   (e.g. .deps/gpu, which .gitignore already ignores)
set -euo pipefail
dir=${1:?usage: prepare-deps.sh DIR}
packages=(
  libbenchmark-dev libbenchmark1debian           # Google Benchmark: bench
  libgtest-dev libgmock-dev                      # GoogleTest: the tests
  nlohmann-json3-dev                             # JSON
  libarmadillo-dev libarmadillo11                # Armadillo: fit
  libarpack2 libsuperlu5 liblapack3 libblas3     # what libarmadillo11 links
  libgfortran5 libquadmath0                      # what the reference LAPACK links
)
rm -rf "$dir/root"
mkdir -p "$dir/root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
apt-get update -qq >/dev/null 2>&1 || true
(cd "$tmp" && apt-get download "${packages[@]}" >/dev/null)
for f in "$tmp"/*.deb; do dpkg -x "$f" "$dir/root"; done
rm -rf "$dir/root/usr/share/doc" "$dir/root/usr/share/man" "$dir/root/usr/share/lintian"
# Debian selects its BLAS and LAPACK through alternatives links that dpkg -x does not create.
lib="$dir/root/usr/lib/x86_64-linux-gnu"
ln -sf blas/libblas.so.3 "$lib/libblas.so.3"
ln -sf lapack/liblapack.so.3 "$lib/liblapack.so.3"
echo "unpacked ${#packages[@]} packages into $dir/root ($(du -sh "$dir/root" | cut -f1))"
