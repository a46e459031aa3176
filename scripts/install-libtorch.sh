#!/usr/bin/env bash
# Installs LibTorch 2.x from PyTorch's wheel on PyPI (the C++ libraries, headers and CMake
# package that every `pip install torch` carries) into a folder of its own, for building
# against it: the project's default LibTorch (scripts/libtorch-choice.sh).
#
#   scripts/install-libtorch.sh          into $P4S_LIBTORCH_DIR, else .deps/libtorch-<version>
#
# pip only downloads: nothing is installed into any Python environment. The wheel's LibTorch is
# linked against CUDA; building against it needs a CUDA toolkit of the wheel's major version
# (its CMake package looks for nvcc). Each CUDA library the wheel's libraries load is taken,
# in this order, from the system's loader cache, from that toolkit (linked into the folder, not
# copied), and only then downloaded from the NVIDIA package that the wheel itself names: with
# a toolkit of at least the wheel's CUDA version that leaves a few small libraries, not the
# gigabytes that `pip install torch` brings. An existing complete folder is left as it is.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/libtorch-choice.sh
source "$root/scripts/libtorch-choice.sh"
version=$P4S_TORCH_WHEEL_VERSION
dir=$P4S_LIBTORCH_DIR
say() { echo "install-libtorch: $*"; }
die() { echo "install-libtorch: $*" >&2; exit 1; }

if [[ -f "$dir/.complete" ]]; then
  say "LibTorch $version is in $dir"
  exit 0
fi
toolkit=$(p4s_cuda_toolkit) ||
  die "the wheel's LibTorch needs a CUDA toolkit to build against (nvcc, headers), and none was found (set CUDA_HOME); P4S_LIBTORCH=distro builds against the distribution's LibTorch instead"
py=$(command -v python3) || die "python3 (with pip) is needed to download the wheel"
"$py" -m pip --version >/dev/null 2>&1 || die "$py has no pip (install python3-pip)"
command -v unzip >/dev/null || die "unzip is needed to unpack the wheel (install unzip)"

start=$SECONDS
cache="$dir.download"
rm -rf "$dir" "$cache"
mkdir -p "$cache"
trap 'rm -rf "$cache"' EXIT
# Quietly: pip's progress bars would fill a CI log; its last lines are shown when it fails.
pip_download() {
  if ! "$py" -m pip download --disable-pip-version-check --only-binary=:all: -d "$cache" "$@" \
       >"$cache/pip.log" 2>&1; then
    tail -n 20 "$cache/pip.log" >&2
    die "pip download $* failed (its last lines above)"
  fi
}
say "downloading torch==$version (the wheel alone)"
pip_download --no-deps "torch==$version"
wheel=$(ls "$cache"/torch-"$version"-*.whl)
# Into a temporary name first: an interrupted install leaves no folder that looks complete.
part="$dir.partial"
rm -rf "$part"
mkdir -p "$part"
unzip -q "$wheel" 'torch/lib/*' 'torch/include/*' 'torch/share/*' 'torch/version.py' -d "$part"
wheel_cuda=$(sed -n "s/^cuda[^=]*= *'\([0-9.]*\)'.*/\1/p" "$part/torch/version.py")
[[ -n $wheel_cuda ]] || die "$wheel: torch/version.py names no CUDA version (a CPU-only wheel is not what this installs)"
toolkit_cuda=$(p4s_cuda_version "$toolkit")
[[ ${toolkit_cuda%%.*} == "${wheel_cuda%%.*}" ]] ||
  die "the wheel is built for CUDA $wheel_cuda, the toolkit at $toolkit is CUDA $toolkit_cuda: a toolkit of CUDA ${wheel_cuda%%.*}.x is needed (set CUDA_HOME)"
# The toolkit's libraries serve only where it is at least as new as the wheel's CUDA.
use_toolkit=1
if [[ $(printf '%s\n%s\n' "$wheel_cuda" "$toolkit_cuda" | sort -V | head -n1) != "$wheel_cuda" ]]; then
  use_toolkit=0
  say "the toolkit (CUDA $toolkit_cuda) is older than the wheel's CUDA $wheel_cuda: its CUDA libraries come from NVIDIA's packages"
fi

# The libraries the wheel's libraries load, and where each comes from. One that a requirement of
# the wheel provides (an NVIDIA package, nvidia-cudnn-cu13 for libcudnn, or an extra of
# cuda-toolkit, cuda-toolkit[cublas] for libcublasLt) is a CUDA library: taken from the system's
# loader cache or the toolkit where the toolkit serves, else downloaded at the version the
# wheel pins. Any other (the C library, the driver's libcuda) is the system's.
requires=$(unzip -p "$wheel" "torch-$version.dist-info/METADATA" |
           sed -n 's/^Requires-Dist: \([^;]*\);.*platform_system == "Linux".*/\1/p' | tr -d ' ')
toolkit_req=$(grep '^cuda-toolkit\[' <<<"$requires" || true)
# The requirement that provides a library: libcusparseLt.so.0 nvidia-cusparselt-cu13==V,
# libcublasLt.so.13 the extra cublas, libnvshmem_host.so.3 nvidia-nvshmem-cu13==V,
# libnvToolsExt.so.1 the extra nvtx; nothing for a system library.
provider() {
  local stem s package
  stem=$(sed -E 's/^lib//; s/\.so.*//; s/_host$//; s/ToolsExt$/tx/' <<<"$1" | tr '[:upper:]' '[:lower:]')
  for s in "$stem" "${stem%lt}"; do
    package=$(grep -E "^nvidia-$s(-cu[0-9]+)?==" <<<"$requires" || true)
    if [[ -n $package ]]; then echo "package $package"; return; fi
    if [[ -n $toolkit_req && $toolkit_req =~ [\[,]$s[],] ]]; then echo "extra $s"; return; fi
  done
}
libs="$part/torch/lib"
cuda_lib="$part/nvidia/cu${wheel_cuda%%.*}/lib"
mkdir -p "$cuda_lib"
cache_list=$(ldconfig -p)
missing=() packages=() extras=()
for soname in $(for f in "$libs"/*.so*; do readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u); do
  [[ -e "$libs/$soname" ]] && continue
  in_cache=0
  grep -q "^[[:space:]]*$soname " <<<"$cache_list" && in_cache=1
  read -r kind what <<<"$(provider "$soname")" || true
  if [[ -z ${kind:-} ]]; then
    ((in_cache)) || [[ $soname == libcuda.so.1 ]] ||
      die "the wheel's libraries load $soname, which neither this machine nor a requirement of the wheel provides"
    continue
  fi
  if ((use_toolkit)); then
    ((in_cache)) && continue
    found=$(find -L "$toolkit"/lib64 "$toolkit"/lib "$toolkit"/extras/CUPTI/lib64 -maxdepth 1 -name "$soname" 2>/dev/null | head -n1 || true)
    if [[ -n $found ]]; then
      ln -s "$(readlink -f "$found")" "$cuda_lib/$soname"
      continue
    fi
  fi
  missing+=("$soname")
  if [[ $kind == package ]]; then packages+=("$what"); else extras+=("$what"); fi
done

if ((${#missing[@]})); then
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sed '/^$/d' | sort -u)
  mapfile -t extras < <(printf '%s\n' "${extras[@]}" | sed '/^$/d' | sort -u)
  say "downloading what this machine lacks for ${missing[*]}: ${packages[*]} ${extras[*]:+cuda-toolkit[${extras[*]}]}"
  # NVIDIA's packages without their dependencies (cuDNN's would bring cuBLAS again); the
  # toolkit's extras with them (each extra is one NVIDIA package).
  ((${#packages[@]})) && pip_download --no-deps "${packages[@]}"
  if ((${#extras[@]})); then
    pip_download "cuda-toolkit[$(IFS=,; echo "${extras[*]}")]${toolkit_req##*]}"
  fi
  for w in "$cache"/nvidia_*.whl; do unzip -q -o "$w" 'nvidia/*' -d "$part"; done
  for soname in "${missing[@]}"; do
    [[ -n $(find "$part/nvidia" -name "$soname" | head -n1) ]] ||
      die "the downloaded packages do not contain $soname"
  done
fi

echo "$version" >"$part/.complete"
mv "$part" "$dir"
from="this machine's CUDA $toolkit_cuda ($toolkit)"
((${#missing[@]})) && from+=", and NVIDIA's packages for ${#missing[@]} of them"
((use_toolkit)) || from="NVIDIA's packages (${#missing[@]} libraries)"
say "LibTorch $version (CUDA $wheel_cuda) in $dir: $(du -sh "$dir" | cut -f1), in $((SECONDS - start)) s; its CUDA libraries from $from"
