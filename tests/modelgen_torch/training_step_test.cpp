// The training step: it changes the weights, leaves gradients and momentum allocated, keeps
// its batch fixed, and the layer-alone variant computes the input's gradient.
#include <gtest/gtest.h>

#include <c10/core/Device.h>

#include <torch/nn/modules/batchnorm.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <vector>

#include "modelgen/torch/torch_compat.hpp"
#include "modelgen/torch/training_step.hpp"
#include "test_specs.hpp"

namespace p4s::modelgen_torch {
namespace {

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& t : ts) out.push_back(t.detach().clone());
  return out;
}

TEST(TrainingStep, BatchIsRandomFloatInputsAndLabelsWithinClasses) {
  TrainingStep step(testing_specs::tiny(7), 16, torch::kCPU);
  EXPECT_EQ(step.inputs().sizes().vec(), (std::vector<int64_t>{16, 3, 8, 8}));
  EXPECT_EQ(step.inputs().scalar_type(), torch::kFloat32);
  EXPECT_EQ(step.labels().sizes().vec(), (std::vector<int64_t>{16}));
  EXPECT_EQ(step.labels().scalar_type(), torch::kInt64);
  EXPECT_GE(step.labels().min().item<int64_t>(), 0);
  EXPECT_LT(step.labels().max().item<int64_t>(), 7);
  EXPECT_GT(step.inputs().std().item<double>(), 0.5);
  EXPECT_EQ(step.batch(), 16);
}

TEST(TrainingStep, OptimiserIsTheSpecifiedSgd) {
  TrainingStep step(testing_specs::tiny(), 2, torch::kCPU);
  const auto& options = static_cast<const torch::optim::SGDOptions&>(step.optimizer().defaults());
  EXPECT_DOUBLE_EQ(options.lr(), 0.1);
  EXPECT_DOUBLE_EQ(options.momentum(), 0.9);
  EXPECT_DOUBLE_EQ(options.weight_decay(), 5e-4);
  EXPECT_DOUBLE_EQ(options.dampening(), 0.0);
  EXPECT_FALSE(options.nesterov());
  ASSERT_EQ(step.optimizer().param_groups().size(), 1u);
  EXPECT_EQ(step.optimizer().param_groups()[0].params().size(), step.net().parameters().size());
}

// Each recipe's optimizer, as LibTorch's C++ classes with the recipe's settings.
TEST(TrainingStep, TheRecipesOptimizer) {
  results::Recipe r;
  r.optimizer = results::Optimizer::kAdamW;
  r.lr = 3e-4;
  r.weight_decay = 0.05;
  r.beta1 = 0.8;
  TrainingStep adamw(testing_specs::tiny(), 2, torch::kCPU, "tiny", r);
  const auto* o = dynamic_cast<const torch::optim::AdamW*>(&adamw.optimizer());
  ASSERT_NE(o, nullptr);
  const auto& options = static_cast<const torch::optim::AdamWOptions&>(o->defaults());
  EXPECT_DOUBLE_EQ(options.lr(), 3e-4);
  EXPECT_DOUBLE_EQ(options.weight_decay(), 0.05);
  EXPECT_DOUBLE_EQ(std::get<0>(options.betas()), 0.8);
  r.optimizer = results::Optimizer::kAdam;
  TrainingStep adam(testing_specs::tiny(), 2, torch::kCPU, "tiny", r);
  EXPECT_NE(dynamic_cast<const torch::optim::Adam*>(&adam.optimizer()), nullptr);
  adam.run();
  EXPECT_EQ(adam.optimizer().state().size(), adam.net().parameters().size());  // exp_avg, exp_avg_sq
  r.optimizer = results::Optimizer::kSgdNesterov;
  TrainingStep nesterov(testing_specs::tiny(), 2, torch::kCPU, "tiny", r);
  EXPECT_TRUE(static_cast<const torch::optim::SGDOptions&>(nesterov.optimizer().defaults()).nesterov());
  r.precision = results::Precision::kFp16;  // float16 autocast with a scaler: CUDA only
  EXPECT_THROW(TrainingStep(testing_specs::tiny(), 2, torch::kCPU, "tiny", r), InputError);
}

// bf16 autocast on the CPU: the forward runs in bfloat16, the loss in float32; parameters,
// gradients and the optimizer's state stay float32, and the step trains.
TEST(TrainingStep, Bf16AutocastTrainsFloat32Parameters) {
  results::Recipe r;
  r.precision = results::Precision::kBf16;
  TrainingStep step(testing_specs::tiny(), 2, torch::kCPU, "tiny", r);
  const std::vector<torch::Tensor> before = copies(step.net().parameters());
  step.run();
  EXPECT_EQ(step.last_loss().scalar_type(), torch::kFloat32);
  EXPECT_FALSE(torch_compat::autocast_enabled(c10::DeviceType::CPU));  // the scope ended with the forward
  const std::vector<torch::Tensor> params = step.net().parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(params[i].scalar_type(), torch::kFloat32);
    ASSERT_TRUE(params[i].grad().defined());
    EXPECT_EQ(params[i].grad().scalar_type(), torch::kFloat32);
    EXPECT_FALSE(torch::equal(params[i], before[i])) << "parameter " << i << " did not train";
  }
}

// A frozen prefix: its parameters need no gradient, stay as they were, and are not the
// optimizer's; with freeze_bn its batch norms run in eval mode.
TEST(TrainingStep, AFrozenPrefixDoesNotTrain) {
  const modelgen::NetSpec spec = testing_specs::every_op();
  results::Recipe r;
  r.train_from = spec.layers[spec.layers.size() / 2].name;
  r.freeze_bn = true;
  TrainingStep step(spec, 4, torch::kCPU, "every_op", r);
  const std::vector<torch::Tensor> before = copies(step.net().parameters());
  step.run();
  const std::vector<torch::Tensor> after = step.net().parameters();
  size_t frozen = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    if (after[i].requires_grad()) continue;
    ++frozen;
    EXPECT_TRUE(before[i].equal(after[i])) << "frozen parameter " << i << " changed";
    EXPECT_FALSE(after[i].grad().defined());
  }
  EXPECT_GT(frozen, 0u);
  EXPECT_LT(frozen, after.size());
  EXPECT_EQ(step.optimizer().param_groups()[0].params().size(), after.size() - frozen);
  size_t eval_bns = 0;
  for (const auto& m : step.net().modules(false))
    if (dynamic_cast<const torch::nn::BatchNorm2dImpl*>(m.get()) && !m->is_training()) ++eval_bns;
  EXPECT_GT(eval_bns, 0u);
  r.train_from = "no_such_layer";
  EXPECT_THROW(TrainingStep(spec, 4, torch::kCPU, "every_op", r), InputError);
}

TEST(TrainingStep, RunChangesEveryWeightAndKeepsTheBatch) {
  TrainingStep step(testing_specs::every_op(), 4, torch::kCPU);
  const std::vector<torch::Tensor> before = copies(step.net().parameters());
  const torch::Tensor inputs = step.inputs().clone();
  step.run();
  const std::vector<torch::Tensor> after = step.net().parameters();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_FALSE(before[i].equal(after[i])) << "parameter " << i;
  EXPECT_TRUE(step.inputs().equal(inputs));
  EXPECT_TRUE(std::isfinite(step.last_loss().item<double>()));
}

TEST(TrainingStep, GradientsAndMomentumStayAllocatedBetweenSteps) {
  TrainingStep step(testing_specs::tiny(), 4, torch::kCPU);
  step.run();
  std::vector<void*> grads;
  for (const torch::Tensor& p : step.net().parameters()) {
    ASSERT_TRUE(p.grad().defined());
    grads.push_back(p.grad().data_ptr());
  }
  EXPECT_EQ(step.optimizer().state().size(), step.net().parameters().size());  // momentum buffers
  step.run();
  const std::vector<torch::Tensor> params = step.net().parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(params[i].grad().data_ptr(), grads[i]);
}

TEST(TrainingStep, ZeroGradInPlaceZeroesWithoutFreeing) {
  TrainingStep step(testing_specs::tiny(), 4, torch::kCPU);
  step.run();
  zero_grad_in_place(step.optimizer());
  for (const torch::Tensor& p : step.net().parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_TRUE(p.grad().eq(0).all().item<bool>());
  }
}

TEST(TrainingStep, LossFallsOnAFixedBatch) {
  // Repeating the step on one batch must fit it: the loss goes down.
  TrainingStep step(testing_specs::tiny(3), 8, torch::kCPU);
  step.run();
  const double first = step.last_loss().item<double>();
  for (int i = 0; i < 20; ++i) step.run();
  EXPECT_LT(step.last_loss().item<double>(), first);
}

modelgen::Layer conv_layer() {
  modelgen::Layer l;
  l.name = "conv";
  l.op = modelgen::Op::kConv2d;
  l.inputs = {"input"};
  modelgen::Conv2dAttrs a;
  a.in_channels = 4;
  a.out_channels = 6;
  a.kernel = {3, 3};
  a.padding = {1, 1};
  a.bias = false;
  l.attrs = a;
  return l;
}

TEST(LayerTrainingStep, RunChangesTheWeightsAndComputesTheInputGradient) {
  LayerTrainingStep step(conv_layer(), modelgen::TensorShape{4, 5, 5, false}, 3, torch::kCPU);
  EXPECT_EQ(step.input().sizes().vec(), (std::vector<int64_t>{3, 4, 5, 5}));
  const std::vector<torch::Tensor> before = copies(step.module().parameters());
  ASSERT_EQ(before.size(), 1u);
  step.run();
  EXPECT_FALSE(before[0].equal(step.module().parameters()[0]));
  ASSERT_TRUE(step.input().grad().defined());
  EXPECT_EQ(step.input().grad().sizes(), step.input().sizes());
}

TEST(LayerTrainingStep, FlatInputForLinear) {
  modelgen::Layer l;
  l.name = "fc";
  l.op = modelgen::Op::kLinear;
  l.inputs = {"input"};
  l.attrs = modelgen::LinearAttrs{32, 10, true};
  LayerTrainingStep step(l, modelgen::TensorShape{32, 1, 1, true}, 5, torch::kCPU);
  EXPECT_EQ(step.input().sizes().vec(), (std::vector<int64_t>{5, 32}));
  step.run();
  ASSERT_EQ(step.module().parameters().size(), 2u);
  EXPECT_TRUE(std::isfinite(step.last_loss().item<double>()));
  // d mean(x W^T + b) / dx = (column sums of W) / (5 * 10) for every sample. After a second
  // step the input's gradient is that of the second step alone, not a sum over steps.
  torch::Tensor weight;
  for (const torch::Tensor& p : step.module().parameters())
    if (p.dim() == 2) weight = p.detach().clone();
  step.run();
  const torch::Tensor expected = (weight.sum(0) / 50.0).expand({5, 32});
  EXPECT_TRUE(step.input().grad().allclose(expected, 1e-5, 1e-7));
}

TEST(LayerTrainingStep, InputThatDoesNotFitIsAnError) {
  LayerTrainingStep step(conv_layer(), modelgen::TensorShape{5, 5, 5, false}, 1, torch::kCPU);
  EXPECT_THROW(step.run(), c10::Error);
}

}  // namespace
}  // namespace p4s::modelgen_torch
