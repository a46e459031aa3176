#include "bench/memory_meter.hpp"

#include <malloc.h>

#include <algorithm>

#include "bench/mem_used.hpp"

namespace p4s::bench {

CpuMemoryMeter::CpuMemoryMeter(CpuAllocationTracker& tracker)
    : tracker_(tracker), peak_reset_error_(reset_peak_resident()) {}

std::string CpuMemoryMeter::mem_used_method() const {
  if (peak_reset_error_.empty()) return "VmHWM, reset through /proc/self/clear_refs";
  return "largest VmRSS after each step, a lower bound (/proc/self/clear_refs: " +
         peak_reset_error_ + ")";
}

void CpuMemoryMeter::before_build() {
  // Hand the heap's free memory back to the system first, so that the level reflects what is
  // in use rather than what earlier cases left cached in the heap.
  malloc_trim(0);
  baseline_rss_bytes_ = read_resident_memory().rss_bytes;
}

void CpuMemoryMeter::before_measure() {
  tracker_.reset_peak();
  if (peak_reset_error_.empty()) peak_reset_error_ = reset_peak_resident();
  sampled_peak_bytes_ = read_resident_memory().rss_bytes;
}

void CpuMemoryMeter::after_step() {
  if (!peak_reset_error_.empty())
    sampled_peak_bytes_ = std::max(sampled_peak_bytes_, read_resident_memory().rss_bytes);
}

MemoryCounters CpuMemoryMeter::after_measure() {
  const ResidentMemory now = read_resident_memory();
  const int64_t peak = peak_reset_error_.empty() ? now.peak_bytes : std::max(sampled_peak_bytes_, now.rss_bytes);
  MemoryCounters c;
  c.mem_alloc = tracker_.peak_bytes();
  c.mem_used = std::max<int64_t>(0, peak - baseline_rss_bytes_);
  return c;
}

}  // namespace p4s::bench
