// The flat counters of a step: names, units and values.
#include <gtest/gtest.h>

#include <set>

#include "cupti/counters.hpp"

namespace p4s::cupti {
namespace {

StepAggregate sample() {
  StepAggregate s;
  s.duration_ns = 10'000'000;
  s.kernels = 12;
  s.kernel_time_ns = 8'000'000;
  s.busy_ns = 6'000'000;
  s.gpu_busy = 0.6;
  s.phases[static_cast<size_t>(Phase::kForward)].busy_ns = 2'000'000;
  s.phases[static_cast<size_t>(Phase::kBackward)].busy_ns = 3'500'000;
  s.phases[static_cast<size_t>(Phase::kOptimizerStep)].busy_ns = 250'000;
  s.unattributed.busy_ns = 250'000;
  s.families[static_cast<size_t>(KernelFamily::kImplicitGemm)].kernel_time_ns = 6'000'000;
  s.families[static_cast<size_t>(KernelFamily::kElementwise)].kernel_time_ns = 2'000'000;
  s.memcpy_time_ns = 1'500'000;
  s.memset_time_ns = 10'000;
  s.memory.start_bytes = 1000;
  s.memory.peak_bytes = 5000;
  s.kernels_without_timestamps = 2;
  return s;
}

TEST(Counters, HasExactlyTheDocumentedKeys) {
  std::set<std::string> documented;
  for (const CounterDoc& d : counter_docs()) {
    EXPECT_TRUE(documented.insert(d.name).second) << "duplicate " << d.name;
    EXPECT_TRUE(d.unit == "ms" || d.unit == "bytes" || d.unit == "fraction" || d.unit == "count")
        << d.name << ": " << d.unit;
    EXPECT_FALSE(d.meaning.empty());
  }
  std::set<std::string> written;
  for (const auto& [name, value] : step_counters(sample())) written.insert(name);
  EXPECT_EQ(written, documented);
  for (const char* required : {"kernel_time", "kernels", "gpu_busy", "fwd_time", "bwd_time",
                               "step_time", "cuda_malloc_peak", "mix_implicit_gemm", "mix_gemm",
                               "mix_winograd", "mix_fft", "mix_direct_conv", "mix_elementwise",
                               "mix_reduction", "mix_batchnorm", "mix_other"}) {
    EXPECT_EQ(written.count(required), 1u) << required;
  }
}

TEST(Counters, TimesInMillisecondsBytesAndShares) {
  const auto c = step_counters(sample(), 7);
  EXPECT_DOUBLE_EQ(c.at("kernel_time"), 8.0);
  EXPECT_DOUBLE_EQ(c.at("kernels"), 12.0);
  EXPECT_DOUBLE_EQ(c.at("gpu_busy"), 0.6);
  EXPECT_DOUBLE_EQ(c.at("fwd_time"), 2.0);
  EXPECT_DOUBLE_EQ(c.at("bwd_time"), 3.5);
  EXPECT_DOUBLE_EQ(c.at("step_time"), 0.25);
  EXPECT_DOUBLE_EQ(c.at("unattributed_time"), 0.25);
  EXPECT_DOUBLE_EQ(c.at("memcpy_time"), 1.5);
  EXPECT_DOUBLE_EQ(c.at("memset_time"), 0.01);
  EXPECT_DOUBLE_EQ(c.at("cuda_malloc_peak"), 5000.0);
  EXPECT_DOUBLE_EQ(c.at("cuda_malloc_step_peak"), 4000.0);
  EXPECT_DOUBLE_EQ(c.at("mix_implicit_gemm"), 0.75);
  EXPECT_DOUBLE_EQ(c.at("mix_elementwise"), 0.25);
  EXPECT_DOUBLE_EQ(c.at("mix_gemm"), 0.0);
  EXPECT_DOUBLE_EQ(c.at("kernels_untimed"), 2.0);
  EXPECT_DOUBLE_EQ(c.at("cupti_dropped_records"), 7.0);
}

TEST(Counters, AStepWithoutKernelsHasZeroShares) {
  const auto c = step_counters(StepAggregate{});
  for (KernelFamily f : kAllKernelFamilies) {
    EXPECT_EQ(c.at("mix_" + std::string(family_name(f))), 0.0);
  }
  EXPECT_EQ(c.at("gpu_busy"), 0.0);
}

}  // namespace
}  // namespace p4s::cupti
