#include "bench/device.hpp"

namespace p4s::bench {

ResolvedDevice resolve_device(const std::optional<DeviceChoice>& asked, const CudaStatus& cuda) {
  if (!asked) {
    if (cuda.usable()) return ResolvedDevice{DeviceKind::kCuda, 0};
    return ResolvedDevice{};
  }
  if (asked->kind == DeviceKind::kCpu) return ResolvedDevice{};
  const std::string flag = "--p4s_device=" + asked->text();
  if (!cuda.usable()) throw InputError(flag + ": no CUDA device can be used here: " + cuda.reason);
  if (asked->index >= cuda.device_count) {
    const std::string count = cuda.device_count == 1
                                  ? "is 1 CUDA device"
                                  : "are " + std::to_string(cuda.device_count) + " CUDA devices";
    throw InputError(flag + ": there " + count + " here, numbered from 0");
  }
  return ResolvedDevice{DeviceKind::kCuda, asked->index};
}

double memory_fraction_for_limit(int64_t limit_bytes, int64_t device_total_bytes) {
  if (limit_bytes > device_total_bytes) {
    throw InputError("--p4s_mem_limit=" + std::to_string(limit_bytes) + ": more than the GPU's " +
                      std::to_string(device_total_bytes) + " bytes of memory");
  }
  return static_cast<double>(limit_bytes) / static_cast<double>(device_total_bytes);
}

}  // namespace p4s::bench
