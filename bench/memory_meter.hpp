// How a case's memory counters are measured, as a seam between the measuring loop and the
// device: the CPU meter reads the allocation tracker and /proc; the GPU meter
// (device_memory_meter.hpp) reads the caching allocator's statistics and the device's memory in
// the same calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bench/mem_alloc.hpp"

namespace p4s::bench {

// The memory counters of one case (bench/README.md, "Results"), in bytes.
struct MemoryCounters {
  int64_t mem_alloc = 0;                // peak bytes of live tensors during the measured steps
  std::optional<int64_t> mem_reserved;  // peak bytes a caching allocator reserved (GPU only)
  int64_t mem_used = 0;                 // peak memory in use above the level before the build
};

class MemoryMeter {
 public:
  virtual ~MemoryMeter() = default;
  // Before the case builds its network: the level mem_used is measured above.
  virtual void before_build() = 0;
  // After the warm-up steps, right before the first measured step: peaks start here.
  virtual void before_measure() = 0;
  // After each measured step, outside the timed region.
  virtual void after_step() = 0;
  // After the last measured step.
  virtual MemoryCounters after_measure() = 0;
  // After every case, succeeded or failed, once what it built is destroyed: gives back what the
  // device still caches for it (on a GPU, the caching allocator's free blocks).
  virtual void after_case() {}
};

// mem_alloc from the CPU allocation tracker; mem_used from the process's resident memory:
// VmHWM after a reset through /proc/self/clear_refs, or, where that cannot be written, the
// largest VmRSS seen after each step (a lower bound of the peak).
class CpuMemoryMeter final : public MemoryMeter {
 public:
  // Tries clear_refs once; peak_reset_error() then says whether it works.
  explicit CpuMemoryMeter(CpuAllocationTracker& tracker);

  // Empty when VmHWM can be reset, else why not.
  const std::string& peak_reset_error() const { return peak_reset_error_; }
  // How mem_used is measured, in words, for the results' context.
  std::string mem_used_method() const;

  void before_build() override;
  void before_measure() override;
  void after_step() override;
  MemoryCounters after_measure() override;

 private:
  CpuAllocationTracker& tracker_;
  std::string peak_reset_error_;
  int64_t baseline_rss_bytes_ = 0;
  int64_t sampled_peak_bytes_ = 0;
};

}  // namespace p4s::bench
