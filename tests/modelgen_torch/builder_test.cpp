// The LibTorch builder: parameter counts against shape inference on the 39 real TX2 networks
// and on the tests' own specs, every layer's output shape, and the semantics that change
// memory (in-place activations, flatten as a view, concat, count_include_pad, dropout).
#include <gtest/gtest.h>

#include <ATen/ops/ones.h>
#include <ATen/ops/randn.h>
#include <c10/core/GradMode.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "test_specs.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::modelgen_torch {
namespace {

using test::kTx2Dir;

using modelgen::Layer;
using modelgen::NetSpec;
using modelgen::Op;
using modelgen::ShapedNet;
using modelgen::TensorShape;

std::vector<int64_t> batch_shape(const TensorShape& s, int64_t batch) {
  if (s.flat) return {batch, s.channels};
  return {batch, s.channels, s.height, s.width};
}

// Runs every layer alone on random inputs of the shapes inference gives, and checks that its
// output has the shape inference gives.
void expect_layer_shapes(const NetSpec& spec, int64_t batch) {
  const ShapedNet shapes = modelgen::infer_shapes(spec);
  c10::NoGradGuard no_grad;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    SCOPED_TRACE(spec.name + " layer " + spec.layers[i].name);
    LayerRunner runner(spec.layers[i]);
    std::vector<torch::Tensor> ins;
    for (int p : shapes.layers[i].inputs) ins.push_back(at::randn(batch_shape(shapes.shape_of(p), batch)));
    const torch::Tensor out = runner.run(ins, /*training=*/true);
    EXPECT_EQ(out.sizes().vec(), batch_shape(shapes.layers[i].out, batch));
  }
}

TEST(BuilderTx2, ParameterCountsEqualShapeInferenceOnAll39Networks) {
  const std::vector<std::string> files = test::tx2_netspec_files();
  ASSERT_EQ(files.size(), 39u);
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const NetSpec spec = modelgen::read_netspec(f);
    Net net(spec, f);
    EXPECT_EQ(parameter_count(*net), modelgen::infer_shapes(spec).params);
  }
}

TEST(BuilderTx2, EveryLayerOfEachFamilyGivesTheInferredShape) {
  for (const char* name : {"resnet18_50.json", "mobilenetv2_50.json", "squeezenet_50.json"})
    expect_layer_shapes(modelgen::read_netspec(kTx2Dir + "/" + name), 2);
}

TEST(BuilderTx2, WholeNetworkGivesLogitsPerSample) {
  const NetSpec spec = modelgen::read_netspec(kTx2Dir + "/squeezenet_90.json");
  Net net(spec);
  c10::NoGradGuard no_grad;
  const torch::Tensor out = net->forward(at::randn({2, 3, 224, 224}));
  EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{2, 1000}));
}

TEST(Builder, OwnSpecsHaveInferredParameterCountsAndShapes) {
  for (const NetSpec& spec : {testing_specs::every_op(), testing_specs::tiny()}) {
    SCOPED_TRACE(spec.name);
    Net net(spec);
    EXPECT_EQ(parameter_count(*net), modelgen::infer_shapes(spec).params);
    expect_layer_shapes(spec, 3);
    const torch::Tensor out = net->forward(at::randn({3, spec.input.channels, spec.input.height, spec.input.width}));
    EXPECT_EQ(out.sizes().vec(), (std::vector<int64_t>{3, spec.classes}));
  }
}

TEST(Builder, CeilModeMaxPoolGivesTheLargerOutput) {
  // every_op's maxpool sees 10x10: ceil mode gives 5x5 where floor gives 4x4.
  const NetSpec spec = testing_specs::every_op();
  const ShapedNet shapes = modelgen::infer_shapes(spec);
  const int mp = spec.find_layer("mp");
  ASSERT_GE(mp, 0);
  EXPECT_EQ(shapes.layers[static_cast<size_t>(mp)].out.height, 5);
}

TEST(Builder, ModulesAreNamedAfterLayersWithoutDots) {
  Net net(testing_specs::every_op());
  std::vector<std::string> names;
  for (const auto& child : net->named_children()) names.push_back(child.key());
  EXPECT_EQ(names, (std::vector<std::string>{"stem_conv", "stem_bn", "b1", "b2", "dw", "fc"}));
}

TEST(Builder, BadSpecIsRefusedWithItsSourceNamed) {
  NetSpec spec = testing_specs::tiny();
  spec.layers[0].conv().in_channels = 7;
  try {
    Net net(spec, "bad.json");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("conv"), std::string::npos) << e.what();
  }
}

TEST(Builder, DefaultInitialisationIsPyTorchs) {
  Net net(testing_specs::every_op());
  for (const auto& child : net->named_children()) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(child.value().get())) {
      // kaiming_uniform_(a = sqrt(5)) bounds weights by 1 / sqrt(fan_in).
      const double fan_in = static_cast<double>(conv->weight.size(1) * conv->weight.size(2) * conv->weight.size(3));
      EXPECT_LE(conv->weight.abs().max().item<double>(), 1.0 / std::sqrt(fan_in) + 1e-6) << child.key();
      EXPECT_GT(conv->weight.abs().max().item<double>(), 0.5 / std::sqrt(fan_in)) << child.key();
    }
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(child.value().get())) {
      EXPECT_TRUE(bn->weight.eq(1).all().item<bool>());
      EXPECT_TRUE(bn->bias.eq(0).all().item<bool>());
      EXPECT_TRUE(bn->running_var.eq(1).all().item<bool>());
    }
  }
}

Layer activation(Op op, bool inplace) {
  Layer l;
  l.name = "act";
  l.op = op;
  l.inputs = {"input"};
  l.attrs = modelgen::ActivationAttrs{inplace};
  return l;
}

TEST(LayerRunner, InPlaceReluWritesIntoItsInput) {
  const torch::Tensor x = at::randn({2, 3, 4, 4});
  const torch::Tensor before = x.clone();
  const torch::Tensor y = LayerRunner(activation(Op::kRelu, true)).run({x}, true);
  EXPECT_EQ(y.data_ptr(), x.data_ptr());
  EXPECT_TRUE(x.equal(before.clamp_min(0)));
}

TEST(LayerRunner, OutOfPlaceReluLeavesItsInput) {
  const torch::Tensor x = at::randn({2, 3, 4, 4});
  const torch::Tensor before = x.clone();
  const torch::Tensor y = LayerRunner(activation(Op::kRelu, false)).run({x}, true);
  EXPECT_NE(y.data_ptr(), x.data_ptr());
  EXPECT_TRUE(x.equal(before));
  EXPECT_TRUE(y.equal(before.clamp_min(0)));
}

TEST(LayerRunner, InPlaceRelu6ClampsItsInputToSix) {
  const torch::Tensor x = at::randn({2, 3, 4, 4}) * 10;
  const torch::Tensor before = x.clone();
  const torch::Tensor y = LayerRunner(activation(Op::kRelu6, true)).run({x}, true);
  EXPECT_EQ(y.data_ptr(), x.data_ptr());
  EXPECT_TRUE(x.equal(before.clamp(0, 6)));
  const torch::Tensor z = LayerRunner(activation(Op::kRelu6, false)).run({before}, true);
  EXPECT_NE(z.data_ptr(), before.data_ptr());
  EXPECT_TRUE(z.equal(before.clamp(0, 6)));
}

TEST(LayerRunner, FlattenIsAViewOfItsInput) {
  Layer l;
  l.name = "flat";
  l.op = Op::kFlatten;
  l.inputs = {"input"};
  const torch::Tensor x = at::randn({2, 3, 4, 5});
  const torch::Tensor y = LayerRunner(l).run({x}, true);
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 60}));
  EXPECT_EQ(y.data_ptr(), x.data_ptr());
  EXPECT_TRUE(y.is_view());
}

TEST(LayerRunner, ConcatJoinsChannelsInInputOrder) {
  Layer l;
  l.name = "cat";
  l.op = Op::kConcat;
  l.inputs = {"a", "b", "c"};
  const torch::Tensor a = at::randn({2, 1, 3, 3}), b = at::randn({2, 4, 3, 3}), c = at::randn({2, 2, 3, 3});
  const torch::Tensor y = LayerRunner(l).run({a, b, c}, true);
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 7, 3, 3}));
  EXPECT_TRUE(y.narrow(1, 0, 1).equal(a));
  EXPECT_TRUE(y.narrow(1, 1, 4).equal(b));
  EXPECT_TRUE(y.narrow(1, 5, 2).equal(c));
}

TEST(LayerRunner, AddSumsOutOfPlace) {
  Layer l;
  l.name = "add";
  l.op = Op::kAdd;
  l.inputs = {"a", "b"};
  const torch::Tensor a = at::randn({2, 3, 2, 2}), b = at::randn({2, 3, 2, 2});
  const torch::Tensor y = LayerRunner(l).run({a, b}, true);
  EXPECT_NE(y.data_ptr(), a.data_ptr());
  EXPECT_TRUE(y.allclose(a + b));
}

TEST(LayerRunner, AvgPoolCountsPaddingAsPyTorchDoes) {
  Layer l;
  l.name = "ap";
  l.op = Op::kAvgPool2d;
  l.inputs = {"input"};
  l.attrs = modelgen::Pool2dAttrs{{3, 3}, {1, 1}, {1, 1}, false};
  const torch::Tensor y = LayerRunner(l).run({at::ones({1, 1, 4, 4})}, true);
  // The corner window holds 4 ones and 5 padding zeros, all counted.
  EXPECT_NEAR(y[0][0][0][0].item<double>(), 4.0 / 9.0, 1e-6);
  EXPECT_NEAR(y[0][0][1][1].item<double>(), 1.0, 1e-6);
}

TEST(LayerRunner, DropoutDropsOnlyInTraining) {
  Layer l;
  l.name = "drop";
  l.op = Op::kDropout;
  l.inputs = {"input"};
  l.attrs = modelgen::DropoutAttrs{0.5};
  const torch::Tensor x = at::ones({1000});
  const LayerRunner runner(l);
  const torch::Tensor train = runner.run({x}, true);
  const int64_t zeros = train.eq(0).sum().item<int64_t>();
  EXPECT_GT(zeros, 300);
  EXPECT_LT(zeros, 700);
  EXPECT_TRUE(runner.run({x}, false).equal(x));
}

TEST(LayerRunner, OnlyLayersWithParametersHaveModules) {
  for (const Layer& l : testing_specs::every_op().layers) {
    const bool has_params = l.op == Op::kConv2d || l.op == Op::kBatchNorm2d || l.op == Op::kLinear;
    EXPECT_EQ(LayerRunner(l).module() != nullptr, has_params) << l.name;
  }
}

}  // namespace
}  // namespace p4s::modelgen_torch
