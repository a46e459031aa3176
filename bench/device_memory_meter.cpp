#include "bench/device_memory_meter.hpp"

#include <algorithm>

namespace p4s::bench {

DeviceMemoryMeter::DeviceMemoryMeter(DeviceMemorySource& source) : source_(source) {}

std::string DeviceMemoryMeter::mem_used_method() {
  return "device used memory (cudaMemGetInfo total - free) sampled before the measured steps and "
         "after each, highest sample above the level before the build";
}

std::string DeviceMemoryMeter::allocator_protocol() {
  return "caching allocator: cache emptied before each case is built and after it ends, never "
         "between steps; peaks reset after the warm-up steps";
}

void DeviceMemoryMeter::before_build() {
  source_.empty_cache();
  baseline_used_bytes_ = source_.device_used_bytes();
}

void DeviceMemoryMeter::before_measure() {
  source_.reset_peaks();
  sampled_peak_used_bytes_ = source_.device_used_bytes();
}

void DeviceMemoryMeter::after_step() {
  sampled_peak_used_bytes_ = std::max(sampled_peak_used_bytes_, source_.device_used_bytes());
}

MemoryCounters DeviceMemoryMeter::after_measure() {
  const AllocatorPeaks p = source_.peaks();
  MemoryCounters c;
  c.mem_alloc = p.allocated_bytes;
  c.mem_reserved = p.reserved_bytes;
  c.mem_used = std::max<int64_t>(0, std::max(sampled_peak_used_bytes_, source_.device_used_bytes()) -
                                       baseline_used_bytes_);
  return c;
}

void DeviceMemoryMeter::after_case() { source_.empty_cache(); }

}  // namespace p4s::bench
