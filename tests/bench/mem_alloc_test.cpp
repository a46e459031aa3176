// The CPU allocation tracker: every CPU tensor allocation goes through it, live and peak
// bytes are exact, a training step's peak holds weights, gradients, momentum and more, and
// the memory limit refuses allocations with an out-of-memory error that leaves it consistent.
#include <gtest/gtest.h>

#include <ATen/ops/conv2d.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/zeros.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <exception>
#include <string>

#include "bench/mem_alloc.hpp"
#include "bench/run_case.hpp"
#include "modelgen/torch/training_step.hpp"

namespace p4s::bench {
namespace {

// Removes the limit whatever the test does.
struct LimitGuard {
  ~LimitGuard() { CpuAllocationTracker::install().set_limit_bytes(std::nullopt); }
};

TEST(CpuAllocationTracker, InstallIsIdempotentAndReplacesTheCpuAllocator) {
  CpuAllocationTracker& a = CpuAllocationTracker::install();
  const c10::Allocator* installed = c10::GetCPUAllocator();
  EXPECT_EQ(&CpuAllocationTracker::install(), &a);
  EXPECT_EQ(c10::GetCPUAllocator(), installed);
}

TEST(CpuAllocationTracker, CountsTheExactBytesOfEveryTensorAndTheirRelease) {
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  const int64_t before = t.live_bytes();
  {
    const at::Tensor a = at::empty({1000}, at::kFloat);
    EXPECT_EQ(t.live_bytes() - before, 4000);
    const at::Tensor b = at::zeros({10, 10}, at::kDouble);
    EXPECT_EQ(t.live_bytes() - before, 4800);
    const at::Tensor c = at::randn({3, 7});
    const at::Tensor d = c.clone();
    EXPECT_EQ(t.live_bytes() - before, 4800 + 2 * 84);
    const at::Tensor e = d.view({21});  // a view allocates nothing
    EXPECT_EQ(t.live_bytes() - before, 4800 + 2 * 84);
    EXPECT_GE(t.peak_bytes(), t.live_bytes());
  }
  EXPECT_EQ(t.live_bytes(), before);
}

TEST(CpuAllocationTracker, PeakResetsToLiveAndRisesWithAllocations) {
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  { const at::Tensor big = at::empty({1 << 20}, at::kFloat); }
  EXPECT_GE(t.peak_bytes(), t.live_bytes() + (int64_t{4} << 20));
  t.reset_peak();
  EXPECT_EQ(t.peak_bytes(), t.live_bytes());
  const int64_t base = t.live_bytes();
  { const at::Tensor x = at::empty({1000}, at::kByte); }
  EXPECT_EQ(t.peak_bytes(), base + 1000);
  EXPECT_EQ(t.live_bytes(), base);
}

TEST(CpuAllocationTracker, OperatorOutputsAndWorkspacesAreTracked) {
  // A convolution's output (and oneDNN's workspaces, through LibTorch's raw interface).
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  const at::Tensor x = at::randn({2, 8, 16, 16}), w = at::randn({4, 8, 3, 3});
  t.reset_peak();
  const int64_t before = t.live_bytes();
  const at::Tensor y = at::conv2d(x, w);
  EXPECT_EQ(y.sizes(), (at::IntArrayRef{2, 4, 14, 14}));
  EXPECT_GE(t.live_bytes() - before, y.numel() * 4);
  EXPECT_GE(t.peak_bytes() - before, y.numel() * 4);
}

TEST(CpuAllocationTracker, ConvTrainingStepPeakExceedsWeightsGradientsAndMomentum) {
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  modelgen::Layer conv;
  conv.name = "conv";
  conv.op = modelgen::Op::kConv2d;
  conv.inputs = {"input"};
  modelgen::Conv2dAttrs a;
  a.in_channels = 32;
  a.out_channels = 64;
  a.kernel = {3, 3};
  a.padding = {1, 1};
  conv.attrs = a;
  const int64_t before = t.live_bytes();
  modelgen_torch::LayerTrainingStep step(conv, modelgen::TensorShape{32, 20, 20, false}, 4,
                                         c10::Device(c10::kCPU));
  const int64_t weight_bytes = (64 * 32 * 9 + 64) * 4;
  const int64_t input_bytes = 4 * 32 * 20 * 20 * 4;
  const int64_t output_bytes = 4 * 64 * 20 * 20 * 4;
  EXPECT_EQ(t.live_bytes() - before, weight_bytes + input_bytes);  // weights and the batch
  step.run();  // makes gradients and momentum buffers
  t.reset_peak();
  step.run();
  // Weights, gradients, momentum, the input and its gradient, and the output all live at once.
  EXPECT_GT(t.peak_bytes() - before, 3 * weight_bytes + 2 * input_bytes + output_bytes);
  EXPECT_GE(t.live_bytes() - before, 3 * weight_bytes + input_bytes);
}

TEST(CpuAllocationTracker, LimitRefusesWithAnOutOfMemoryErrorAndStaysConsistent) {
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  LimitGuard guard;
  const int64_t live = t.live_bytes();
  t.set_limit_bytes(live + (int64_t{1} << 20));
  EXPECT_EQ(t.limit_bytes(), live + (int64_t{1} << 20));
  const at::Tensor fits = at::empty({1 << 18}, at::kFloat);  // exactly 1 MiB: at the limit
  std::exception_ptr error;
  try {
    const at::Tensor over = at::empty({1}, at::kByte);
  } catch (...) {
    error = std::current_exception();
  }
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), c10::OutOfMemoryError);
  EXPECT_TRUE(is_out_of_memory(error));
  EXPECT_EQ(failure_message(error).rfind("out of memory: tried to allocate 1 bytes", 0), 0u)
      << failure_message(error);
  EXPECT_EQ(t.live_bytes(), live + (int64_t{1} << 20));
  t.set_limit_bytes(std::nullopt);
  EXPECT_FALSE(t.limit_bytes());
  EXPECT_NO_THROW(at::empty({1}, at::kByte));
}

TEST(CpuAllocationTracker, TrainingStepBeyondTheLimitFailsAsOutOfMemory) {
  CpuAllocationTracker& t = CpuAllocationTracker::install();
  LimitGuard guard;
  const int64_t live = t.live_bytes();
  modelgen::Layer fc;
  fc.name = "fc";
  fc.op = modelgen::Op::kLinear;
  fc.inputs = {"input"};
  fc.attrs = modelgen::LinearAttrs{1024, 1024, true};  // 4 MiB of weights
  t.set_limit_bytes(live + (int64_t{1} << 20));
  try {
    modelgen_torch::LayerTrainingStep step(fc, modelgen::TensorShape{1024, 1, 1, true}, 2,
                                           c10::Device(c10::kCPU));
    step.run();
    FAIL() << "no out-of-memory error";
  } catch (const c10::Error&) {
    EXPECT_TRUE(is_out_of_memory(std::current_exception()));
  }
  EXPECT_EQ(t.live_bytes(), live);  // everything the failed step held is released
}

}  // namespace
}  // namespace p4s::bench
