// mem_alloc, mem_reserved and mem_used on a GPU: the caching allocator's statistics and the
// device's used memory, read through a small seam (DeviceMemorySource) so that the measuring
// logic is tested with a fake; the CUDA source is in cuda_device.cpp.
//
// Protocol (the results' context says it as p4s_allocator_protocol): the allocator's cache is
// emptied before each case is built and after each case ends, never between steps, so that the
// measured steps run with the blocks the warm-up steps left cached, as a training loop does;
// the allocator's peaks are reset after the warm-up steps.
#pragma once

#include <cstdint>
#include <string>

#include "bench/memory_meter.hpp"

namespace p4s::bench {

// The caching allocator's peaks since the last reset, in bytes.
struct AllocatorPeaks {
  int64_t allocated_bytes = 0;  // tensors' blocks (sizes rounded up as the allocator rounds them)
  int64_t reserved_bytes = 0;   // segments the allocator holds from the device, used or cached
};

class DeviceMemorySource {
 public:
  virtual ~DeviceMemorySource() = default;
  // Frees the allocator's cached, unused blocks back to the device.
  virtual void empty_cache() = 0;
  // Peaks restart from the current values.
  virtual void reset_peaks() = 0;
  virtual AllocatorPeaks peaks() = 0;
  // Memory in use on the whole device now (total - free), every process and context included.
  virtual int64_t device_used_bytes() = 0;
};

// mem_alloc: the allocator's peak allocated bytes; mem_reserved: its peak reserved bytes, both
// over the measured steps. mem_used: the device's used memory, sampled right before the measured
// steps and after each of them (outside the timed region: a cudaMemGetInfo costs microseconds,
// and sampling during a step would need a thread that competes with the step's launches), at its
// highest, above the level sampled before the case was built (after the cache was emptied).
// Since reserved segments stay cached until the cache is emptied, the used memory at a step's
// end is its peak, except for memory that libraries allocate and free within a step outside the
// caching allocator (which the samples miss).
class DeviceMemoryMeter final : public MemoryMeter {
 public:
  explicit DeviceMemoryMeter(DeviceMemorySource& source);

  // How mem_used is measured, for the results' context.
  static std::string mem_used_method();
  // The allocator protocol above, for the results' context.
  static std::string allocator_protocol();

  void before_build() override;
  void before_measure() override;
  void after_step() override;
  MemoryCounters after_measure() override;
  void after_case() override;

 private:
  DeviceMemorySource& source_;
  int64_t baseline_used_bytes_ = 0;
  int64_t sampled_peak_used_bytes_ = 0;
};

}  // namespace p4s::bench
