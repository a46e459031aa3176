// Per-step aggregation over records built here: busy time with concurrent kernels, clipping to
// the window, phases by launch time, the kernel mix, and the device-memory peak.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cupti/step_aggregate.hpp"

namespace p4s::cupti {
namespace {

KernelRecord kernel(std::string name, uint64_t start, uint64_t end, uint32_t correlation,
                    uint32_t stream = 7) {
  KernelRecord k;
  k.name = std::move(name);
  k.start_ns = start;
  k.end_ns = end;
  k.correlation_id = correlation;
  k.stream_id = stream;
  return k;
}

ApiRecord launch(uint32_t correlation, uint64_t at, uint32_t thread = 1,
                 ApiDomain domain = ApiDomain::kRuntime) {
  ApiRecord a;
  a.domain = domain;
  a.correlation_id = correlation;
  a.start_ns = at;
  a.end_ns = at + 3;
  a.thread_id = thread;
  return a;
}

MemoryRecord memory(MemoryOperation op, uint64_t address, uint64_t bytes, uint64_t at,
                    MemoryKind kind = MemoryKind::kDevice) {
  MemoryRecord m;
  m.operation = op;
  m.memory_kind = kind;
  m.address = address;
  m.bytes = bytes;
  m.timestamp_ns = at;
  return m;
}
MemoryRecord alloc(uint64_t address, uint64_t bytes, uint64_t at) {
  return memory(MemoryOperation::kAllocation, address, bytes, at);
}
MemoryRecord release(uint64_t address, uint64_t bytes, uint64_t at) {
  return memory(MemoryOperation::kRelease, address, bytes, at);
}

// A step over [1000, 2000): forward [1000, 1300), backward [1300, 1700), step [1700, 1900).
StepWindow training_step() {
  return {1000,
          2000,
          {{Phase::kForward, 1000, 1300}, {Phase::kBackward, 1300, 1700},
           {Phase::kOptimizerStep, 1700, 1900}}};
}

TEST(UnionLength, CountsOverlapOnce) {
  EXPECT_EQ(union_length_ns({}), 0u);
  EXPECT_EQ(union_length_ns({{0, 10}}), 10u);
  EXPECT_EQ(union_length_ns({{5, 15}, {0, 10}}), 15u);
  EXPECT_EQ(union_length_ns({{0, 10}, {10, 20}}), 20u);
  EXPECT_EQ(union_length_ns({{0, 100}, {10, 20}, {30, 40}}), 100u);
  EXPECT_EQ(union_length_ns({{0, 10}, {20, 30}, {25, 50}}), 40u);
  EXPECT_EQ(union_length_ns({{5, 5}, {9, 3}}), 0u);  // empty and inverted intervals
}

TEST(StepAggregate, BusyFractionCountsConcurrentKernelsOnce) {
  ActivityRecords r;
  r.kernels = {kernel("a", 1100, 1300, 1, 1), kernel("b", 1200, 1400, 2, 2),
               kernel("c", 1500, 1600, 3, 1)};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.duration_ns, 1000u);
  EXPECT_EQ(s.kernels, 3u);
  EXPECT_EQ(s.kernel_time_ns, 500u);
  EXPECT_EQ(s.busy_ns, 400u);
  EXPECT_DOUBLE_EQ(s.gpu_busy, 0.4);
}

TEST(StepAggregate, RecordsOutsideTheWindowAreLeftOutAndEdgesClipped) {
  ActivityRecords r;
  r.kernels = {kernel("before", 500, 800, 1),     kernel("across_start", 900, 1100, 2),
               kernel("inside", 1200, 1300, 3),   kernel("across_end", 1950, 2100, 4),
               kernel("at_end", 2000, 2100, 5),   kernel("after", 2100, 2200, 6),
               kernel("instant", 1400, 1400, 7)};
  MemcpyRecord copy;
  copy.bytes = 64;
  copy.start_ns = 1990;
  copy.end_ns = 2010;
  MemcpyRecord late = copy;
  late.start_ns = 2500;
  late.end_ns = 2600;
  r.memcpys = {copy, late};
  MemsetRecord set;
  set.bytes = 32;
  set.start_ns = 100;
  set.end_ns = 200;
  r.memsets = {set};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.kernels, 4u);  // across_start, inside, across_end, instant
  EXPECT_EQ(s.kernel_time_ns, 100u + 100u + 50u);
  EXPECT_EQ(s.busy_ns, 250u);
  EXPECT_EQ(s.memcpys, 1u);
  EXPECT_EQ(s.memcpy_bytes, 64u);
  EXPECT_EQ(s.memcpy_time_ns, 10u);
  EXPECT_EQ(s.memsets, 0u);
}

TEST(StepAggregate, KernelsBelongToThePhaseTheyWereLaunchedIn) {
  ActivityRecords r;
  r.kernels = {
      kernel("fwd1", 1100, 1200, 1),
      kernel("fwd2_runs_during_backward", 1350, 1450, 2),  // queued behind: still forward
      kernel("bwd_from_autograd_thread", 1500, 1550, 3),
      kernel("step", 1760, 1800, 4),
      kernel("after_the_phases", 1960, 1980, 5),
      kernel("no_launch_record", 1600, 1620, 6),
  };
  r.api_calls = {launch(1, 1010), launch(2, 1020), launch(3, 1400, /*thread=*/2),
                 launch(4, 1750), launch(5, 1950)};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.phase(Phase::kForward).kernels, 2u);
  EXPECT_EQ(s.phase(Phase::kForward).kernel_time_ns, 200u);
  EXPECT_EQ(s.phase(Phase::kForward).busy_ns, 200u);
  EXPECT_EQ(s.phase(Phase::kBackward).kernels, 1u);
  EXPECT_EQ(s.phase(Phase::kBackward).busy_ns, 50u);
  EXPECT_EQ(s.phase(Phase::kOptimizerStep).kernels, 1u);
  EXPECT_EQ(s.phase(Phase::kOptimizerStep).busy_ns, 40u);
  EXPECT_EQ(s.unattributed.kernels, 2u);
  EXPECT_EQ(s.unattributed.busy_ns, 40u);
  EXPECT_EQ(s.kernels_without_launch, 1u);
  EXPECT_EQ(launch_phase(2, training_step(), LaunchIndex(r.api_calls)), Phase::kForward);
  EXPECT_EQ(launch_phase(6, training_step(), LaunchIndex(r.api_calls)), std::nullopt);
}

TEST(StepAggregate, PhaseBusyTimeCountsConcurrentKernelsOnce) {
  ActivityRecords r;
  r.kernels = {kernel("a", 1100, 1200, 1, 1), kernel("b", 1150, 1250, 2, 2)};
  r.api_calls = {launch(1, 1010), launch(2, 1011)};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.phase(Phase::kForward).kernel_time_ns, 200u);
  EXPECT_EQ(s.phase(Phase::kForward).busy_ns, 150u);
}

TEST(StepAggregate, TheEarliestLaunchCallOfACorrelationIdCounts) {
  ActivityRecords r;
  r.kernels = {kernel("k", 1400, 1500, 9)};
  // A runtime call in the forward phase and the driver call it made just after the boundary.
  r.api_calls = {launch(9, 1301, 1, ApiDomain::kDriver), launch(9, 1299, 1, ApiDomain::kRuntime)};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.phase(Phase::kForward).kernels, 1u);
  EXPECT_EQ(s.phase(Phase::kBackward).kernels, 0u);
}

TEST(StepAggregate, UntimedKernelsAreCountedWhenLaunchedInTheStep) {
  ActivityRecords r;
  r.kernels = {kernel("untimed_in", 0, 0, 1), kernel("untimed_out", 0, 0, 2),
               kernel("timed", 1100, 1200, 3)};
  r.api_calls = {launch(1, 1050), launch(2, 2500), launch(3, 1060)};
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.kernels, 1u);
  EXPECT_EQ(s.kernels_without_timestamps, 1u);
}

TEST(StepAggregate, KernelMixByFamilyFromRealNames) {
  ActivityRecords r;
  r.kernels = {
      kernel("sm90_xmma_fprop_implicit_gemm_f32f32_tf32f32_f32_nhwckrsc_nhwc_tilesize64x128x32_"
             "warpgroupsize1x1x1_g1_execute_split_k_kernel__5x_cudnn",
             1000, 1400, 1),
      kernel("ampere_sgemm_128x64_nn", 1400, 1500, 2),
      kernel("void cudnn::bn_fw_tr_1C11_kernel_NCHW<float, float, 512, true, 1>(cudnnTensorStruct, "
             "float const*)",
             1500, 1550, 3),
      kernel("void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, "
             "at::detail::Array<char*, 1> >(int, at::native::FillFunctor<float>, "
             "at::detail::Array<char*, 1>)",
             1550, 1600, 4),
  };
  const StepAggregate s = aggregate_step(r, training_step());
  EXPECT_EQ(s.family(KernelFamily::kImplicitGemm).kernels, 1u);
  EXPECT_EQ(s.family(KernelFamily::kImplicitGemm).kernel_time_ns, 400u);
  EXPECT_EQ(s.family(KernelFamily::kGemm).kernel_time_ns, 100u);
  EXPECT_EQ(s.family(KernelFamily::kBatchNorm).kernel_time_ns, 50u);
  EXPECT_EQ(s.family(KernelFamily::kElementwise).kernel_time_ns, 50u);
  EXPECT_DOUBLE_EQ(s.family_share(KernelFamily::kImplicitGemm), 400.0 / 600.0);
  double total = 0;
  for (KernelFamily f : kAllKernelFamilies) total += s.family_share(f);
  EXPECT_DOUBLE_EQ(total, 1.0);
  EXPECT_DOUBLE_EQ(aggregate_step(ActivityRecords{}, training_step()).family_share(KernelFamily::kGemm),
                   0.0);
}

TEST(StepAggregate, MemoryPeakFollowsInterleavedAllocationsAndReleases) {
  ActivityRecords r;
  r.memory = {alloc(0xA, 100, 1100), alloc(0xB, 50, 1200), release(0xA, 100, 1300),
              alloc(0xC, 200, 1400), release(0xB, 50, 1500), release(0xC, 200, 1600)};
  const MemoryAggregate m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.start_bytes, 0u);
  EXPECT_EQ(m.peak_bytes, 250u);
  EXPECT_EQ(m.peak_timestamp_ns, 1400u);
  EXPECT_EQ(m.end_bytes, 0u);
  EXPECT_EQ(m.allocations, 3u);
  EXPECT_EQ(m.releases, 3u);
  EXPECT_EQ(m.allocated_bytes, 350u);
  EXPECT_EQ(m.unmatched_releases, 0u);
  EXPECT_EQ(m.step_peak_bytes(), 250u);
}

TEST(StepAggregate, MemoryAllocatedBeforeTheWindowCountsFromItsRecords) {
  ActivityRecords r;
  r.memory = {alloc(0xA, 100, 1200),  // in the window; listed first: order must not matter
              alloc(0xF, 1000, 500), alloc(0x1, 10, 600), release(0x1, 10, 700),
              release(0xF, 1000, 1300)};
  const MemoryAggregate m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.start_bytes, 1000u);
  EXPECT_EQ(m.peak_bytes, 1100u);
  EXPECT_EQ(m.peak_timestamp_ns, 1200u);
  EXPECT_EQ(m.end_bytes, 100u);
  EXPECT_EQ(m.step_peak_bytes(), 100u);
  EXPECT_EQ(m.unmatched_releases, 0u);
}

TEST(StepAggregate, ReleasingMemoryNoRecordShowedRaisesTheStartLevel) {
  ActivityRecords r;
  r.memory = {release(0x99, 300, 1100), alloc(0xA, 100, 1200)};
  MemoryAggregate m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.start_bytes, 300u);  // 0x99 was live when the step began
  EXPECT_EQ(m.peak_bytes, 300u);
  EXPECT_EQ(m.peak_timestamp_ns, 1000u);  // the window's start
  EXPECT_EQ(m.end_bytes, 100u);
  EXPECT_EQ(m.unmatched_releases, 1u);
  EXPECT_EQ(m.step_peak_bytes(), 0u);

  r.memory.push_back(alloc(0xB, 400, 1300));
  m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.peak_bytes, 500u);
  EXPECT_EQ(m.peak_timestamp_ns, 1300u);
  EXPECT_EQ(m.step_peak_bytes(), 200u);
}

TEST(StepAggregate, MemoryIgnoresOtherKindsAndRecordsAfterTheWindow) {
  ActivityRecords r;
  r.memory = {alloc(0xA, 100, 1100), memory(MemoryOperation::kAllocation, 0xB, 5000, 1150,
                                            MemoryKind::kPinned),
              alloc(0xC, 7000, 2000), alloc(0xD, 7000, 2500)};
  const MemoryAggregate m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.peak_bytes, 100u);
  EXPECT_EQ(m.allocations, 1u);
}

TEST(StepAggregate, AnAddressAllocatedTwiceReplacesItsOldBlock) {
  ActivityRecords r;  // the release in between was dropped
  r.memory = {alloc(0xA, 100, 1100), alloc(0xA, 60, 1200), alloc(0xB, 30, 1300)};
  const MemoryAggregate m = aggregate_step(r, training_step()).memory;
  EXPECT_EQ(m.peak_bytes, 100u);
  EXPECT_EQ(m.end_bytes, 90u);
}

TEST(StepAggregate, StepsFromOneCollectionAreAggregatedSeparately) {
  ActivityRecords r;
  r.kernels = {kernel("a", 1100, 1200, 1), kernel("b", 3100, 3400, 2), kernel("c", 3500, 3600, 3)};
  r.api_calls = {launch(1, 1010), launch(2, 3010), launch(3, 3020)};
  r.memory = {alloc(0xA, 10, 1100), release(0xA, 10, 1150), alloc(0xB, 20, 3100)};
  StepWindow second = training_step();
  second.start_ns += 2000;
  second.end_ns += 2000;
  for (PhaseSpan& p : second.phases) {
    p.start_ns += 2000;
    p.end_ns += 2000;
  }
  const std::vector<StepAggregate> steps = aggregate_steps(r, {training_step(), second});
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].kernels, 1u);
  EXPECT_EQ(steps[0].kernel_time_ns, 100u);
  EXPECT_EQ(steps[0].memory.peak_bytes, 10u);
  EXPECT_EQ(steps[1].kernels, 2u);
  EXPECT_EQ(steps[1].phase(Phase::kForward).kernels, 2u);
  EXPECT_EQ(steps[1].memory.start_bytes, 0u);
  EXPECT_EQ(steps[1].memory.peak_bytes, 20u);
}

TEST(StepAggregate, AnEmptyWindowGivesZeros) {
  ActivityRecords r;
  r.kernels = {kernel("a", 1100, 1200, 1)};
  const StepAggregate s = aggregate_step(r, StepWindow{5000, 5000, {}});
  EXPECT_EQ(s.kernels, 0u);
  EXPECT_EQ(s.gpu_busy, 0.0);
}

}  // namespace
}  // namespace p4s::cupti
