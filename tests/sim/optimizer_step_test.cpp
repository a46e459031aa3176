// The optimizer's step by implementation against what PyTorch's Python optimizers were seen to
// allocate (PyTorch 2.15 on the CPU, a tracking CPU allocator around optimizer.step(), three
// parameters of 4,000,000, 400,000 and 40,000 bytes with gradients): the peak above what was
// live before the step, in the first step (state born) and in a later one. LibTorch's C++
// optimizers, which the bench runs, are checked to the byte on whole steps
// (tests/bench/memory_sim_real_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "sim/optimizer_step.hpp"

namespace p4s::sim {
namespace {

class PeakScope : public KernelScope {
 public:
  int temp(int64_t bytes) override {
    live_ += bytes;
    peak_ = std::max(peak_, live_);
    sizes_[next_] = bytes;
    return next_++;
  }
  void release(int handle) override {
    live_ -= sizes_.at(handle);
    sizes_.erase(handle);
  }
  void result(size_t) override {}
  int64_t peak() const { return peak_; }

 private:
  int64_t live_ = 0, peak_ = 0;
  int next_ = 0;
  std::map<int, int64_t> sizes_;
};

const std::vector<int64_t> kParams{4'000'000, 400'000, 40'000};

struct Seen {
  results::Optimizer optimizer;
  double momentum, weight_decay;
  results::OptimizerImpl impl;
  int64_t first, later;  // peak above the step's start, bytes
};

results::Recipe recipe_of(const Seen& s) {
  results::Recipe r;
  results::use_optimizer(r, s.optimizer);
  if (s.optimizer == results::Optimizer::kSgd || s.optimizer == results::Optimizer::kSgdNesterov)
    r.momentum = s.momentum;
  r.weight_decay = s.weight_decay;
  r.optimizer_impl = s.impl;
  return r;
}

TEST(OptimizerStep, PythonImplementationsAllocateAsObserved) {
  using O = results::Optimizer;
  using I = results::OptimizerImpl;
  const std::vector<Seen> seen{
      {O::kSgd, 0.9, 5e-4, I::kForLoop, 8'000'000, 4'000'012},
      {O::kSgdNesterov, 0.9, 5e-4, I::kForLoop, 12'000'000, 8'000'000},
      {O::kAdam, 0, 1e-4, I::kForLoop, 20'880'024, 12'000'012},
      {O::kAdamW, 0, 1e-2, I::kForLoop, 16'880'024, 8'000'012},
      {O::kSgd, 0.9, 5e-4, I::kForeach, 8'880'000, 4'440'012},
      {O::kSgd, 0.9, 0, I::kForeach, 4'440'000, 12},
      {O::kSgdNesterov, 0.9, 5e-4, I::kForeach, 8'880'000, 4'440'012},
      {O::kSgdNesterov, 0.9, 0, I::kForeach, 4'440'000, 12},
      {O::kAdam, 0, 1e-4, I::kForeach, 13'320'024, 4'440'012},
      {O::kAdam, 0, 0, I::kForeach, 13'320'024, 4'440'012},
      {O::kAdamW, 0, 1e-2, I::kForeach, 13'320'024, 4'440'012},
      {O::kSgd, 0.9, 5e-4, I::kFused, 4'440'000, 0},
      {O::kSgdNesterov, 0.9, 5e-4, I::kFused, 4'440'000, 0},
      {O::kAdam, 0, 1e-4, I::kFused, 8'880'024, 12},
      {O::kAdamW, 0, 1e-2, I::kFused, 8'880'024, 12},
  };
  for (const Seen& s : seen) {
    const results::Recipe r = recipe_of(s);
    SCOPED_TRACE(r.describe());
    PeakScope first, later;
    optimizer_step(first, kParams, true, r, /*wrapped_scalars=*/true);
    optimizer_step(later, kParams, false, r, true);
    EXPECT_EQ(first.peak(), s.first);
    EXPECT_EQ(later.peak(), s.later);
  }
}

// Where the numbers and Python's step counters stay on the host (CUDA), foreach's lists alone
// make the peak: every parameter's at once, against the largest one's for the for-loop.
TEST(OptimizerStep, OnADeviceForeachHoldsEveryParametersTemporaryAtOnce) {
  results::Recipe r;
  results::use_optimizer(r, results::Optimizer::kAdamW);
  for (results::OptimizerImpl impl : {results::OptimizerImpl::kForLoop, results::OptimizerImpl::kForeach}) {
    r.optimizer_impl = impl;
    PeakScope later;
    optimizer_step(later, kParams, false, r);
    EXPECT_EQ(later.peak(), impl == results::OptimizerImpl::kForeach ? 4'440'000 : 8'000'000);
  }
  EXPECT_EQ(state_scalar_bytes(r, false), 0);
  r.optimizer_impl = results::OptimizerImpl::kFused;  // fused keeps its step counters on the device
  EXPECT_EQ(state_scalar_bytes(r, false), 4);
  r.optimizer_impl = results::OptimizerImpl::kLibTorch;  // an integer in the C++ state
  EXPECT_EQ(state_scalar_bytes(r, true), 0);
}

}  // namespace
}  // namespace p4s::sim
