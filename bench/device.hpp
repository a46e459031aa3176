// Which device the cases run on (--p4s_device), and what --p4s_mem_limit means there. Pure
// decisions from what the CUDA path reports (cuda_device.hpp), so that they are tested on any
// machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bench/options.hpp"

namespace p4s::bench {

// What the CUDA path found: whether this bench has it, and how many devices LibTorch can use.
struct CudaStatus {
  bool built = false;     // built against a CUDA-enabled LibTorch
  int device_count = 0;   // usable CUDA devices
  std::string reason;     // when none is usable: why, in a few words
  bool usable() const { return built && device_count > 0; }
};

struct ResolvedDevice {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;  // CUDA device index
  bool cuda() const { return kind == DeviceKind::kCuda; }
  // The results' p4s_device value: "cpu" or "cuda".
  std::string name() const { return cuda() ? "cuda" : "cpu"; }
};

// The device asked for with --p4s_device; without the flag, CUDA device 0 where CUDA is usable,
// else the CPU. Asking for CUDA where it is not usable, or for a device index beyond the
// devices, throws InputError naming --p4s_device and why; there is no silent fallback, so that
// results never claim a device they did not run on.
ResolvedDevice resolve_device(const std::optional<DeviceChoice>& asked, const CudaStatus& cuda);

// The share of the GPU's memory that the caching allocator may reserve to emulate a device of
// `limit_bytes` (its per-process memory fraction). Throws InputError naming --p4s_mem_limit
// when the limit is larger than the GPU's memory. Preconditions: both > 0.
double memory_fraction_for_limit(int64_t limit_bytes, int64_t device_total_bytes);

}  // namespace p4s::bench
