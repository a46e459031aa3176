#include "modelgen/torch/mixed_precision.hpp"

#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "modelgen/torch/torch_compat.hpp"

namespace p4s::modelgen_torch {
namespace {

constexpr double kInitialScale = 65536.0;
constexpr double kGrowthFactor = 2.0;
constexpr double kBackoffFactor = 0.5;
constexpr int64_t kGrowthInterval = 2000;

at::ScalarType dtype_of(results::Precision p) {
  return p == results::Precision::kFp16 ? at::kHalf : at::kBFloat16;
}

}  // namespace

void check_precision(results::Precision precision, const torch::Device& device) {
  if (precision == results::Precision::kFp16 && !device.is_cuda())
    throw InputError("precision fp16: float16 autocast with a gradient scaler runs on CUDA only; on the CPU "
                     "use bf16");
}

AutocastScope::AutocastScope(results::Precision precision, const torch::Device& device) {
  if (precision == results::Precision::kFp32) return;
  active_ = true;
  device_ = device.type();
  was_enabled_ = torch_compat::autocast_enabled(device_);
  was_dtype_ = torch_compat::autocast_dtype(device_);
  torch_compat::set_autocast_enabled(device_, true);
  torch_compat::set_autocast_dtype(device_, dtype_of(precision));
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The casted weights are cached for the whole forward pass; Python's autocast lets go of
  // them when its outermost scope ends, and so does this one.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  torch_compat::set_autocast_enabled(device_, was_enabled_);
  torch_compat::set_autocast_dtype(device_, was_dtype_);
}

GradScaler::GradScaler(const torch::Device& device)
    : scale_(at::full({1}, kInitialScale, torch::TensorOptions().device(device).dtype(at::kFloat))),
      growth_tracker_(at::zeros({1}, torch::TensorOptions().device(device).dtype(at::kInt))) {}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const { return loss * scale_; }

bool GradScaler::step(torch::optim::Optimizer& optimizer) {
  std::vector<torch::Tensor> grads;
  for (auto& group : optimizer.param_groups())
    for (torch::Tensor& p : group.params())
      if (p.grad().defined()) grads.push_back(p.grad());
  const torch::Tensor inv_scale = scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  torch::Tensor found_inf = at::zeros({1}, scale_.options());
  if (!grads.empty()) at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
  const bool finite = found_inf.item<float>() == 0.0f;
  if (finite) optimizer.step();
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf, kGrowthFactor, kBackoffFactor, kGrowthInterval);
  return finite;
}

}  // namespace p4s::modelgen_torch
