#include "cupti/counters.hpp"

namespace p4s::cupti {
namespace {

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::vector<CounterDoc> make_docs() {
  std::vector<CounterDoc> d = {
      {"kernel_time", "ms", "sum of the step's kernel durations, clipped to the step"},
      {"kernels", "count", "kernels that ran in the step"},
      {"gpu_busy", "fraction", "union of kernel intervals over the step's duration"},
      {"fwd_time", "ms", "GPU-busy time of kernels launched in the forward phase"},
      {"bwd_time", "ms", "GPU-busy time of kernels launched in the backward phase"},
      {"step_time", "ms", "GPU-busy time of kernels launched in the optimizer step"},
      {"unattributed_time", "ms",
       "GPU-busy time of kernels launched outside the phases or with no launch record"},
      {"memcpy_time", "ms", "sum of memory copy durations in the step"},
      {"memset_time", "ms", "sum of memset durations in the step"},
      {"cuda_malloc_peak", "bytes", "peak of live device allocations during the step"},
      {"cuda_malloc_step_peak", "bytes", "that peak above the level at the step's start"},
  };
  for (KernelFamily f : kAllKernelFamilies) {
    d.push_back({"mix_" + std::string(family_name(f)), "fraction",
                 "share of kernel_time in " + std::string(family_name(f)) + " kernels"});
  }
  d.push_back({"kernels_untimed", "count", "kernels launched in the step that CUPTI could not time"});
  d.push_back({"cupti_dropped_records", "count",
               "records CUPTI dropped in the collection the step came from"});
  return d;
}

}  // namespace

const std::vector<CounterDoc>& counter_docs() {
  static const std::vector<CounterDoc> docs = make_docs();
  return docs;
}

std::map<std::string, double> step_counters(const StepAggregate& s, uint64_t dropped_records) {
  std::map<std::string, double> c;
  c["kernel_time"] = ms(s.kernel_time_ns);
  c["kernels"] = static_cast<double>(s.kernels);
  c["gpu_busy"] = s.gpu_busy;
  c["fwd_time"] = ms(s.phase(Phase::kForward).busy_ns);
  c["bwd_time"] = ms(s.phase(Phase::kBackward).busy_ns);
  c["step_time"] = ms(s.phase(Phase::kOptimizerStep).busy_ns);
  c["unattributed_time"] = ms(s.unattributed.busy_ns);
  c["memcpy_time"] = ms(s.memcpy_time_ns);
  c["memset_time"] = ms(s.memset_time_ns);
  c["cuda_malloc_peak"] = static_cast<double>(s.memory.peak_bytes);
  c["cuda_malloc_step_peak"] = static_cast<double>(s.memory.step_peak_bytes());
  for (KernelFamily f : kAllKernelFamilies) {
    c["mix_" + std::string(family_name(f))] = s.family_share(f);
  }
  c["kernels_untimed"] = static_cast<double>(s.kernels_without_timestamps);
  c["cupti_dropped_records"] = static_cast<double>(dropped_records);
  return c;
}

}  // namespace p4s::cupti
