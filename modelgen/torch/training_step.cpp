#include "modelgen/torch/training_step.hpp"

#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>

#include <utility>
#include <vector>

#include "modelgen/torch/step_phases.hpp"

namespace p4s::modelgen_torch {

torch::optim::SGDOptions training_sgd_options() {
  return torch::optim::SGDOptions(kSgdLr).momentum(kSgdMomentum).weight_decay(kSgdWeightDecay);
}

void zero_grad_in_place(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (torch::Tensor& p : group.params()) {
      torch::Tensor& grad = p.mutable_grad();
      if (grad.defined()) {
        grad.detach_();
        grad.zero_();
      }
    }
}

TrainingStep::TrainingStep(const modelgen::NetSpec& spec, int64_t batch, torch::Device device,
                           const std::string& source)
    : batch_(batch), net_(spec, source) {
  net_->to(device);
  net_->train();
  optimizer_ = std::make_unique<torch::optim::SGD>(net_->parameters(), training_sgd_options());
  const auto options = torch::TensorOptions().device(device);
  inputs_ = at::randn({batch, spec.input.channels, spec.input.height, spec.input.width},
                      options.dtype(torch::kFloat32));
  labels_ = at::randint(spec.classes, {batch}, options.dtype(torch::kInt64));
}

void TrainingStep::run() {
  // Nothing of the previous step is held through this one: the step the simulation describes
  // (sim/memory_sim.hpp), whose peak is then the measured one to the byte.
  loss_.reset();
  mark_phase(StepPhase::kForward);
  // The logits are a temporary, freed once the loss holds what its backward needs.
  torch::Tensor loss = at::cross_entropy_loss(net_->forward(inputs_), labels_);
  mark_phase(StepPhase::kZeroGrad);
  zero_grad_in_place(*optimizer_);
  mark_phase(StepPhase::kBackward);
  loss.backward();
  mark_phase(StepPhase::kOptimizerStep);
  optimizer_->step();
  mark_phases_end();
  loss_ = loss.detach();
}

LayerTrainingStep::LayerTrainingStep(const modelgen::Layer& layer,
                                     const modelgen::TensorShape& input, int64_t batch,
                                     torch::Device device)
    : root_(std::make_shared<torch::nn::Module>("Layer")), layer_(layer) {
  if (layer_.module()) root_->register_module("layer", layer_.module());
  root_->to(device);
  root_->train();
  optimizer_ = std::make_unique<torch::optim::SGD>(root_->parameters(), training_sgd_options());
  std::vector<int64_t> sizes{batch, input.channels};
  if (!input.flat) {
    sizes.push_back(input.height);
    sizes.push_back(input.width);
  }
  input_ = at::randn(sizes, torch::TensorOptions().device(device).dtype(torch::kFloat32));
  input_.set_requires_grad(true);
}

void LayerTrainingStep::run() {
  input_.mutable_grad().reset();
  loss_.reset();
  mark_phase(StepPhase::kForward);
  torch::Tensor loss = layer_.run({input_}, root_->is_training()).mean();
  mark_phase(StepPhase::kZeroGrad);
  zero_grad_in_place(*optimizer_);
  mark_phase(StepPhase::kBackward);
  loss.backward();
  mark_phase(StepPhase::kOptimizerStep);
  optimizer_->step();
  mark_phases_end();
  loss_ = loss.detach();
}

}  // namespace p4s::modelgen_torch
