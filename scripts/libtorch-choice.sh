# Sourced by the scripts that install, build and test: which LibTorch this machine builds
# against, chosen by P4S_LIBTORCH:
#
#   wheel    LibTorch 2.x from PyTorch's wheel on PyPI (pinned below, CUDA-linked), unpacked by
#            scripts/install-libtorch.sh into .deps/ (or $P4S_LIBTORCH_DIR); needs a CUDA
#            toolkit to build against. The default wherever one is found.
#   distro   the distribution's LibTorch (Debian 12: 1.13, CPU only), from its libtorch-dev
#            package. The default where no CUDA toolkit is found.
#
# Sets P4S_LIBTORCH, P4S_TORCH_WHEEL_VERSION and P4S_LIBTORCH_DIR, and defines
# p4s_cuda_toolkit, p4s_cuda_version and p4s_libtorch_cmake_args.

# The wheel's version: the CUDA 13.0 build, which a CUDA 13.0 toolkit's libraries serve.
P4S_TORCH_WHEEL_VERSION=${P4S_TORCH_WHEEL_VERSION:-2.11.0}

# The CUDA toolkit's folder (one with nvcc): CUDA_HOME, CUDA_PATH, then /usr/local/cuda.
p4s_cuda_toolkit() {
  local d
  for d in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    [[ -n $d && -x $d/bin/nvcc && -f $d/include/cuda.h ]] && { echo "$d"; return 0; }
  done
  return 1
}

# A toolkit's CUDA version, major.minor, from its cuda.h.
p4s_cuda_version() {
  local v
  v=$(sed -n 's/^#define CUDA_VERSION \([0-9]*\).*/\1/p' "$1/include/cuda.h")
  echo "$((v / 1000)).$((v % 1000 / 10))"
}

if [[ -z ${P4S_LIBTORCH:-} ]]; then
  if p4s_cuda_toolkit >/dev/null; then P4S_LIBTORCH=wheel; else P4S_LIBTORCH=distro; fi
fi
case $P4S_LIBTORCH in
  wheel | distro) ;;
  *) echo "P4S_LIBTORCH='$P4S_LIBTORCH': the choices are wheel (LibTorch $P4S_TORCH_WHEEL_VERSION from PyPI) and distro (the distribution's libtorch-dev)" >&2
     exit 2 ;;
esac
P4S_LIBTORCH_DIR=${P4S_LIBTORCH_DIR:-$root/.deps/libtorch-$P4S_TORCH_WHEEL_VERSION}
export P4S_LIBTORCH P4S_TORCH_WHEEL_VERSION P4S_LIBTORCH_DIR

# CMake's arguments that point find_package(Torch) at the chosen LibTorch (none for a distro
# without one: the configure step then says LibTorch was not found).
p4s_libtorch_cmake_args() {
  local config
  if [[ $P4S_LIBTORCH == wheel ]]; then
    # The prefix too: its libraries before any other LibTorch's on the system paths.
    echo "-DTorch_DIR=$P4S_LIBTORCH_DIR/torch/share/cmake/Torch"
    echo "-DCMAKE_PREFIX_PATH=$P4S_LIBTORCH_DIR/torch"
  elif config=$(dpkg -L libtorch-dev 2>/dev/null | grep '/TorchConfig\.cmake$' | head -n1) && [[ -n $config ]]; then
    echo "-DTorch_DIR=$(dirname "$config")"
  fi
}
