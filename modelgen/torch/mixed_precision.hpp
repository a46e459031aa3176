// Mixed precision as a training loop uses it: autocast over the forward pass and the loss
// (`with torch.autocast(device_type, dtype):`), and on CUDA with float16 a gradient scaler
// (torch.cuda.amp.GradScaler's dynamic loss scaling), in LibTorch's C++ API.
#pragma once

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "results_format/recipe.hpp"

namespace p4s::modelgen_torch {

// Throws InputError unless `precision` runs on `device`: fp32 anywhere, bf16 autocast on the
// CPU and CUDA, fp16 autocast on CUDA only (with a gradient scaler).
void check_precision(results::Precision precision, const torch::Device& device);

// Autocast to `precision`'s dtype on `device` for the scope's lifetime (nothing for fp32). On
// leaving the outermost scope, the cache of casted weights is cleared, as Python's autocast
// does. Restores the state it found. Precondition: check_precision(precision, device).
class AutocastScope {
 public:
  AutocastScope(results::Precision precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kFloat;
};

// Dynamic loss scaling for float16 on CUDA, with GradScaler's defaults: the loss is scaled by
// 2^16 before backward; the step unscales the gradients in place and skips the optimizer's
// step where any is inf or NaN, halving the scale; 2000 finite steps in a row double it.
class GradScaler {
 public:
  explicit GradScaler(const torch::Device& device);
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Unscales the gradients of `optimizer`'s parameters, steps it unless one is not finite,
  // and updates the scale. Returns whether it stepped.
  bool step(torch::optim::Optimizer& optimizer);

 private:
  torch::Tensor scale_;           // float32 [1]
  torch::Tensor growth_tracker_;  // int32 [1]
};

}  // namespace p4s::modelgen_torch
