// Private to cuda_device.cpp: the caching allocator's API as the bench uses it, spelled once for
// every LibTorch the project builds against (1.13 and 2.x; see modelgen/torch/torch_compat.hpp).
//
// What differs, and how each call below covers it:
//  - device arguments are `int` in 1.13 and early 2.x, c10::DeviceIndex later: a DeviceIndex is
//    passed, which converts to int;
//  - emptyCache() takes a memory-pool id in later 2.x (defaulting to every pool): it is called
//    without one;
//  - DeviceStats and its Stat/StatType moved from c10::cuda::CUDACachingAllocator (1.13, early
//    2.x) to c10::CachingDeviceAllocator / c10::CachingAllocator: the statistics are read through
//    `auto`, the all-pools entry by its index, 0 (StatType::AGGREGATE) in every version;
//  - the allocator has a backend name ("native", "cudaMallocAsync") from 2.0 only;
//  - the allocator exists once LibTorch's CUDA state is initialised, which 1.13 and 2.x start
//    through different Context calls: cuda_device.cpp starts it portably by allocating a tensor.
#pragma once

#include <c10/core/Device.h>
#include <c10/cuda/CUDACachingAllocator.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "modelgen/torch/torch_compat.hpp"

namespace p4s::bench::cuda_compat {

// StatType::AGGREGATE: the statistic over the small and the large pool together.
inline constexpr size_t kAllPools = 0;

inline void empty_cache() { c10::cuda::CUDACachingAllocator::emptyCache(); }

inline void reset_peak_stats(c10::DeviceIndex device) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(device);
}

inline void set_memory_fraction(double fraction, c10::DeviceIndex device) {
  c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, device);
}

struct Peaks {
  int64_t allocated_bytes = 0;
  int64_t reserved_bytes = 0;
};

inline Peaks peaks(c10::DeviceIndex device) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  static_assert(std::is_same_v<std::decay_t<decltype(stats.allocated_bytes[kAllPools].peak)>, int64_t>,
                "cuda_compat.hpp: the allocator's Stat::peak is no longer int64_t");
  return {stats.allocated_bytes[kAllPools].peak, stats.reserved_bytes[kAllPools].peak};
}

// "native" (PyTorch's caching allocator) or "cudaMallocAsync" (PYTORCH_CUDA_ALLOC_CONF=
// backend:cudaMallocAsync, whose statistics are partial); LibTorch 1.13 has the native one only.
inline std::string backend_name() {
#if P4S_TORCH_AT_LEAST(2, 0)
  return c10::cuda::CUDACachingAllocator::name();
#else
  return "native";
#endif
}

}  // namespace p4s::bench::cuda_compat
