// Per-step aggregation of activity records: pure code, no CUPTI.
//
// A record belongs to a step when its device interval overlaps the step's window; durations are
// clipped to the window. A kernel belongs to the phase during which its launch call ran on the
// host (the ApiRecord with the kernel's correlation id; see phases.hpp); kernels with no launch
// record, or launched outside every phase, are "unattributed".
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cupti/kernel_family.hpp"
#include "cupti/phases.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti {

// Length of the union of half-open intervals [first, second): overlapping time counted once.
uint64_t union_length_ns(std::vector<std::pair<uint64_t, uint64_t>> intervals);

// When each piece of work was launched on the host: correlation id -> earliest start of a
// launch call with that id.
class LaunchIndex {
 public:
  explicit LaunchIndex(const std::vector<ApiRecord>& api_calls);
  std::optional<uint64_t> launch_ns(uint32_t correlation_id) const;
  bool empty() const { return start_ns_.empty(); }

 private:
  std::unordered_map<uint32_t, uint64_t> start_ns_;
};

struct PhaseAggregate {
  uint64_t kernels = 0;
  uint64_t kernel_time_ns = 0;  // sum of the phase's kernel durations
  uint64_t busy_ns = 0;         // union of their intervals: concurrent kernels counted once
};

struct FamilyAggregate {
  uint64_t kernels = 0;
  uint64_t kernel_time_ns = 0;
};

// Device memory (MemoryKind::kDevice) over the step, from allocation and release records.
// The level is the running sum of live bytes. Allocations made before the window count from
// the records before it; a release of an allocation no record showed means that memory was
// live from the window's start, so the start level includes it.
struct MemoryAggregate {
  uint64_t start_bytes = 0;         // live at the window's start
  uint64_t peak_bytes = 0;          // highest level in the window (>= start_bytes)
  uint64_t peak_timestamp_ns = 0;   // when it was first reached (the window's start if never exceeded)
  uint64_t end_bytes = 0;           // live at the window's end
  uint64_t allocations = 0;         // in the window
  uint64_t releases = 0;            // in the window
  uint64_t allocated_bytes = 0;     // in the window
  uint64_t unmatched_releases = 0;  // releases of allocations no record showed

  // Growth over the start level: what the step itself added at its peak.
  uint64_t step_peak_bytes() const { return peak_bytes - start_bytes; }
};

struct StepAggregate {
  uint64_t duration_ns = 0;

  uint64_t kernels = 0;
  uint64_t kernel_time_ns = 0;  // sum of durations (clipped to the window)
  uint64_t busy_ns = 0;         // union of kernel intervals (clipped)
  double gpu_busy = 0;          // busy_ns / duration_ns, in [0, 1]
  uint64_t kernels_without_timestamps = 0;  // launched in the window, not timed by CUPTI
  uint64_t kernels_without_launch = 0;      // no launch record: cannot be given a phase

  std::array<PhaseAggregate, 3> phases{};  // indexed by Phase
  PhaseAggregate unattributed;
  std::array<FamilyAggregate, kKernelFamilyCount> families{};  // indexed by KernelFamily

  uint64_t memcpys = 0, memcpy_bytes = 0, memcpy_time_ns = 0;
  uint64_t memsets = 0, memset_bytes = 0, memset_time_ns = 0;

  MemoryAggregate memory;

  const PhaseAggregate& phase(Phase p) const { return phases[static_cast<size_t>(p)]; }
  const FamilyAggregate& family(KernelFamily f) const { return families[static_cast<size_t>(f)]; }
  // The family's share of kernel time, in [0, 1]; 0 when the step ran no kernel.
  double family_share(KernelFamily f) const;
};

// Precondition: window.check() is empty (a malformed window gives a meaningless aggregate).
StepAggregate aggregate_step(const ActivityRecords& records, const StepWindow& window);
StepAggregate aggregate_step(const ActivityRecords& records, const StepWindow& window,
                             const LaunchIndex& launches);
// Each window in turn, sharing one LaunchIndex.
std::vector<StepAggregate> aggregate_steps(const ActivityRecords& records,
                                           const std::vector<StepWindow>& windows);

// The phase a kernel (or copy, memset) with this correlation id was launched in, if any.
std::optional<Phase> launch_phase(uint32_t correlation_id, const StepWindow& window,
                                  const LaunchIndex& launches);

}  // namespace p4s::cupti
