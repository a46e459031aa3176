// A step's aggregate as flat counters, named as they appear in the results' JSON. Units are
// fixed per key and listed by counter_docs(): times in milliseconds (like the predictions'
// latency_ms), memory in bytes, shares and fractions in [0, 1], counts as plain numbers.
//
//   kernel_time           ms     sum of the step's kernel durations (clipped to the step)
//   kernels               count  kernels that ran in the step
//   gpu_busy              [0,1]  union of kernel intervals / step duration
//   fwd_time              ms     GPU-busy time of kernels launched in the forward phase
//   bwd_time              ms     ... in the backward phase
//   step_time             ms     ... in the optimizer step
//   unattributed_time     ms     ... launched outside the phases, or with no launch record
//   memcpy_time           ms     sum of copy durations
//   memset_time           ms     sum of memset durations
//   cuda_malloc_peak      bytes  peak of live device allocations during the step
//   cuda_malloc_step_peak bytes  that peak above the level at the step's start
//   mix_<family>          [0,1]  the family's share of kernel_time (kernel_family.hpp names)
//   kernels_untimed       count  kernels CUPTI could not time (their time is missing)
//   cupti_dropped_records count  records CUPTI dropped in the collection the step came from
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cupti/step_aggregate.hpp"

namespace p4s::cupti {

struct CounterDoc {
  std::string name;
  std::string unit;  // "ms", "bytes", "fraction", "count"
  std::string meaning;
};

// Every counter step_counters() writes, in a stable order.
const std::vector<CounterDoc>& counter_docs();

// The step's counters. `dropped_records` is the count from the collection (CaptureResult).
std::map<std::string, double> step_counters(const StepAggregate& step, uint64_t dropped_records = 0);

}  // namespace p4s::cupti
