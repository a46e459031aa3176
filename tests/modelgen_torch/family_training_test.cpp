// Every built-in family, pruned at every level from 0 to 90 in steps of 5, builds as a LibTorch
// module with the spec's parameter count and trains one step: every parameter gets a gradient
// (and so a momentum buffer) and the loss is finite.
//
// Budget: one step per network at batch 1. CIFAR size for every family x 19 levels (the
// seed cycles through 1, 2, 3 with the level; fewer where pruning cannot go so far); ImageNet
// size, where one step of the larger families takes seconds and a VGG holds 1.6 GB of
// weights, gradients and momentum, for the families up to ResNet-34's size at three levels.
// One test per family and size, so that ctest can spread them over cores.
#include <gtest/gtest.h>

#include <c10/core/Device.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/training_step.hpp"

namespace p4s::modelgen_torch {
namespace {

using modelgen::Dataset;
using modelgen::NetworkId;

void expect_one_training_step(const NetworkId& id) {
  const modelgen::NetSpec spec = modelgen::make_builtin_network(id);
  SCOPED_TRACE(spec.name);
  const modelgen::ShapedNet shapes = modelgen::infer_shapes(spec, spec.name);
  TrainingStep step(spec, 1, c10::Device(c10::kCPU), spec.name);
  step.run();
  EXPECT_EQ(parameter_count(step.net()), shapes.params);
  EXPECT_TRUE(std::isfinite(step.last_loss().item<double>()));
  const std::vector<torch::Tensor> params = step.net().parameters();
  EXPECT_EQ(step.optimizer().state().size(), params.size()) << "a parameter got no gradient";
  for (const torch::Tensor& p : params) ASSERT_TRUE(p.grad().defined());
}

NetworkId network(std::string_view family, Dataset dataset, int level) {
  NetworkId id;
  id.family = std::string(family);
  id.dataset = dataset;
  id.prune_percent = level;
  id.seed = level > 0 ? 1 + static_cast<uint64_t>(level / 5) % 3 : 0;
  return id;
}

class FamilyTraining : public ::testing::TestWithParam<std::string_view> {};

TEST_P(FamilyTraining, EveryLevelAtCifarSizeTrainsOneStep) {
  // Up to the level pruning reaches (frozen channel groups keep RegNetY's below 90).
  const int reach = modelgen::RandomChannelPruner(
                        modelgen::make_builtin_network(network(GetParam(), Dataset::kCifar10, 0)))
                        .highest_level();
  for (int level = 0; level <= std::min(90, reach); level += 5)
    expect_one_training_step(network(GetParam(), Dataset::kCifar10, level));
}

// A CIFAR-100 classifier too, once per family: the classes change only the last layer.
TEST_P(FamilyTraining, Cifar100TrainsOneStep) {
  expect_one_training_step(network(GetParam(), Dataset::kCifar100, 40));
}

std::string test_name(const ::testing::TestParamInfo<std::string_view>& info) {
  std::string name(info.param);
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

std::vector<std::string_view> family_ids() {
  std::vector<std::string_view> ids;
  for (const modelgen::Family& f : modelgen::families()) ids.push_back(f.id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(AllFamilies, FamilyTraining, ::testing::ValuesIn(family_ids()), test_name);

class ImageNetTraining : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ImageNetTraining, ThreeLevelsAtImageNetSizeTrainOneStep) {
  for (int level : {0, 45, 90}) expect_one_training_step(network(GetParam(), Dataset::kImageNet, level));
}

// The families up to ResNet-34's step cost; AlexNet, the VGGs and ResNet-50 are left to the
// CIFAR tests above (the same layers but for the input size and the classifier's width).
INSTANTIATE_TEST_SUITE_P(LighterFamilies, ImageNetTraining,
                         ::testing::Values("resnet18", "resnet34", "mobilenetv2", "squeezenet1.0", "squeezenet1.1",
                                           "googlenet", "mnasnet1.0"),
                         test_name);

}  // namespace
}  // namespace p4s::modelgen_torch
