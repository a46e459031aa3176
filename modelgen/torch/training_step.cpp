#include "modelgen/torch/training_step.hpp"

#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "common/input_error.hpp"
#include "modelgen/torch/mixed_precision.hpp"
#include "modelgen/torch/step_phases.hpp"

namespace p4s::modelgen_torch {

torch::optim::SGDOptions training_sgd_options() {
  return torch::optim::SGDOptions(kSgdLr).momentum(kSgdMomentum).weight_decay(kSgdWeightDecay);
}

void check_optimizer_impl(const results::Recipe& r) {
  if (r.optimizer_impl != results::OptimizerImpl::kLibTorch)
    throw InputError(std::string("optimizer implementation ") + results::optimizer_impl_name(r.optimizer_impl) +
                     ": this training step runs LibTorch's C++ optimizers (libtorch) only");
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const results::Recipe& r, std::vector<torch::Tensor> params) {
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov:
      return std::make_unique<torch::optim::SGD>(
          std::move(params), torch::optim::SGDOptions(r.lr)
                                 .momentum(r.momentum)
                                 .weight_decay(r.weight_decay)
                                 .nesterov(r.optimizer == results::Optimizer::kSgdNesterov));
    case results::Optimizer::kAdam:
      return std::make_unique<torch::optim::Adam>(
          std::move(params),
          torch::optim::AdamOptions(r.lr).betas({r.beta1, r.beta2}).eps(r.eps).weight_decay(r.weight_decay));
    case results::Optimizer::kAdamW:
      return std::make_unique<torch::optim::AdamW>(
          std::move(params),
          torch::optim::AdamWOptions(r.lr).betas({r.beta1, r.beta2}).eps(r.eps).weight_decay(r.weight_decay));
  }
  throw std::logic_error("make_optimizer: unknown optimizer");
}

void set_grads_to_none(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (torch::Tensor& p : group.params()) p.mutable_grad().reset();
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

RecipeLoop::RecipeLoop(const results::Recipe& recipe, const torch::Device& device)
    : precision_(recipe.precision), grads_to_none_(recipe.zero_grad_to_none), device_(device) {
  check_precision(precision_, device_);
  check_optimizer_impl(recipe);
  if (precision_ == results::Precision::kFp16) scaler_.emplace(device_);
}

torch::Tensor RecipeLoop::step(torch::optim::Optimizer& optimizer, const std::function<torch::Tensor()>& forward) {
  if (grads_to_none_) {
    mark_phase(StepPhase::kZeroGrad);
    set_grads_to_none(optimizer);
  }
  mark_phase(StepPhase::kForward);
  torch::Tensor loss;
  {
    const AutocastScope autocast(precision_, device_);
    loss = forward();
  }
  if (!grads_to_none_) {
    mark_phase(StepPhase::kZeroGrad);
    zero_grad_in_place(optimizer);
  }
  mark_phase(StepPhase::kBackward);
  if (scaler_) {
    scaler_->scale(loss).backward();
  } else {
    loss.backward();
  }
  mark_phase(StepPhase::kOptimizerStep);
  if (scaler_) {
    scaler_->step(optimizer);
  } else {
    optimizer.step();
  }
  mark_phases_end();
  return loss;
}

TrainingStep::TrainingStep(const modelgen::NetSpec& spec, int64_t batch, torch::Device device,
                           const std::string& source, const results::Recipe& recipe, LossFn loss)
    : batch_(batch), loop_(recipe, device), loss_fn_(std::move(loss)), net_(spec, source) {
  net_->to(device);
  net_->train();
  optimizer_ = make_optimizer(recipe, net_->freeze_before(recipe.train_from, recipe.freeze_bn, source));
  const auto options = torch::TensorOptions().device(device);
  inputs_ = at::randn({batch, spec.input.channels, spec.input.height, spec.input.width},
                      options.dtype(torch::kFloat32));
  labels_ = at::randint(spec.classes, {batch}, options.dtype(torch::kInt64));
}

void TrainingStep::run() {
  // Nothing of the previous step is held through this one: the step the simulation describes
  // (sim/memory_sim.hpp), whose peak is then the measured one to the byte.
  loss_.reset();
  // The logits are a temporary, freed once the loss holds what its backward needs.
  const torch::Tensor loss =
      loop_.step(*optimizer_, [this] {
        return loss_fn_ ? loss_fn_(net_->forward(inputs_), labels_) : at::cross_entropy_loss(net_->forward(inputs_), labels_);
      });
  loss_ = loss.detach();
}

LayerTrainingStep::LayerTrainingStep(const modelgen::Layer& layer,
                                     const modelgen::TensorShape& input, int64_t batch,
                                     torch::Device device, const results::Recipe& recipe)
    : LayerTrainingStep(std::vector<modelgen::Layer>{layer}, input, batch, device, recipe) {}

LayerTrainingStep::LayerTrainingStep(const std::vector<modelgen::Layer>& layers,
                                     const modelgen::TensorShape& input, int64_t batch,
                                     torch::Device device, const results::Recipe& recipe)
    : root_(std::make_shared<torch::nn::Module>("Layer")), loop_(recipe, device) {
  if (layers.empty()) throw std::invalid_argument("LayerTrainingStep: no layers");
  for (size_t i = 0; i < layers.size(); ++i) {
    const modelgen::Layer& l = layers[i];
    // One layer takes the input whatever its `inputs` say (its one input, by precondition).
    std::vector<int> producers;
    if (layers.size() == 1) producers.push_back(-1);
    for (const std::string& in : layers.size() == 1 ? std::vector<std::string>{} : l.inputs) {
      int p = -1;
      if (in != modelgen::kInputName) {
        for (size_t j = 0; j < i && p < 0; ++j)
          if (layers[j].name == in) p = static_cast<int>(j);
        if (p < 0)
          throw std::invalid_argument("LayerTrainingStep: layer \"" + l.name + "\" takes \"" + in +
                                      "\", neither the input nor an earlier layer");
      }
      producers.push_back(p);
    }
    layers_.emplace_back(l);
    producers_.push_back(std::move(producers));
    // One layer keeps the child name it always had; a block's are its layers' names.
    std::string child = layers.size() == 1 ? std::string("layer") : l.name;
    for (char& c : child)
      if (c == '.') c = '_';  // LibTorch refuses dots in module names
    if (layers_.back().module()) root_->register_module(child, layers_.back().module());
  }
  last_use_.resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    last_use_[i] = i;
    for (int p : producers_[i])
      if (p >= 0) last_use_[static_cast<size_t>(p)] = i;
  }
  root_->to(device);
  root_->train();
  optimizer_ = make_optimizer(recipe, root_->parameters());
  std::vector<int64_t> sizes{batch, input.channels};
  if (!input.flat) {
    sizes.push_back(input.height);
    sizes.push_back(input.width);
  }
  input_ = at::randn(sizes, torch::TensorOptions().device(device).dtype(torch::kFloat32));
  input_.set_requires_grad(true);
}

torch::Tensor LayerTrainingStep::forward() {
  const bool training = root_->is_training();
  if (layers_.size() == 1) return layers_[0].run({input_}, training);
  const size_t output = layers_.size() - 1;
  std::vector<torch::Tensor> outs(layers_.size());
  std::vector<torch::Tensor> ins;
  for (size_t i = 0; i < layers_.size(); ++i) {
    ins.clear();
    for (int p : producers_[i]) ins.push_back(p < 0 ? input_ : outs[static_cast<size_t>(p)]);
    outs[i] = layers_[i].run(ins, training);
    ins.clear();
    for (int p : producers_[i])
      if (p >= 0 && last_use_[static_cast<size_t>(p)] == i) outs[static_cast<size_t>(p)].reset();
    if (last_use_[i] == i && i != output) outs[i].reset();  // nothing consumes it
  }
  return outs[output];
}

void LayerTrainingStep::run() {
  input_.mutable_grad().reset();
  loss_.reset();
  const torch::Tensor loss = loop_.step(*optimizer_, [this] { return forward().mean(); });
  loss_ = loss.detach();
}

}  // namespace p4s::modelgen_torch
