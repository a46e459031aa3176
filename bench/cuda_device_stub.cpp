// Built instead of cuda_device.cpp when LibTorch has no CUDA (P4S_HAVE_CUDA off): the bench
// runs on the CPU and says why CUDA is off.
#include <stdexcept>

#include "bench/cuda_device.hpp"

namespace p4s::bench {

CudaStatus cuda_status() {
  CudaStatus s;
  s.reason = "this bench was built without the CUDA path (its LibTorch has no CUDA; see the CMake "
             "summary)";
  return s;
}

std::unique_ptr<CudaDevice> CudaDevice::open(int /*index*/) {
  throw std::runtime_error(cuda_status().reason);
}

}  // namespace p4s::bench
