// Layer cases: the argument names of the case names, and params and flops that agree with
// modelgen's shape inference and with the LibTorch module the case trains.
#include <gtest/gtest.h>

#include <ATen/ops/randn.h>
#include <c10/core/Device.h>
#include <c10/core/GradMode.h>

#include <string>
#include <vector>

#include "bench/layer_cases.hpp"
#include "bench/sweep.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/training_step.hpp"

namespace p4s::bench {
namespace {

TEST(LayerCases, ArgumentNamesEndWithTheBatchSize) {
  EXPECT_EQ(layer_kind_name(LayerKind::kConv2d), "Conv2d");
  EXPECT_EQ(layer_kind_name(LayerKind::kLinear), "Linear");
  EXPECT_EQ(layer_kind_name(LayerKind::kBatchNorm2d), "BatchNorm2d");
  EXPECT_EQ(layer_arg_names(LayerKind::kConv2d),
            (std::vector<std::string>{"cin", "cout", "k", "s", "g", "hw", "bs"}));
  EXPECT_EQ(layer_arg_names(LayerKind::kLinear), (std::vector<std::string>{"in", "out", "bs"}));
  EXPECT_EQ(layer_arg_names(LayerKind::kBatchNorm2d), (std::vector<std::string>{"c", "hw", "bs"}));
  EXPECT_EQ(case_args(Conv2dShape{64, 128, 3, 2, 1, 56}, 32), (std::vector<int64_t>{64, 128, 3, 2, 1, 56, 32}));
  EXPECT_EQ(case_args(LinearShape{512, 1000}, 4), (std::vector<int64_t>{512, 1000, 4}));
  EXPECT_EQ(case_args(BatchNorm2dShape{64, 56}, 8), (std::vector<int64_t>{64, 56, 8}));
}

TEST(LayerCases, Conv2dCaseIsTheDocumentedLayer) {
  const LayerCase c = make_layer_case(LayerKind::kConv2d, {64, 128, 3, 2, 1, 56, 4});
  EXPECT_EQ(c.batch, 4);
  EXPECT_EQ(c.input, (modelgen::TensorShape{64, 56, 56, false}));
  const modelgen::Conv2dAttrs& a = c.layer.conv();
  EXPECT_EQ(a.kernel, (modelgen::Hw{3, 3}));
  EXPECT_EQ(a.stride, (modelgen::Hw{2, 2}));
  EXPECT_EQ(a.padding, (modelgen::Hw{1, 1}));
  EXPECT_EQ(a.dilation, (modelgen::Hw{1, 1}));
  EXPECT_EQ(a.groups, 1);
  EXPECT_FALSE(a.bias);
  EXPECT_EQ(c.params, 128 * 64 * 9);
  // Output 28 x 28: forward MACs 28 * 28 * 128 * 64 * 9 per sample; flops = 2 * MACs * 3 * bs.
  EXPECT_EQ(c.flops, int64_t{2} * 28 * 28 * 128 * 64 * 9 * 3 * 4);
}

TEST(LayerCases, LinearAndBatchNormCases) {
  const LayerCase fc = make_layer_case(LayerKind::kLinear, {512, 1000, 8});
  EXPECT_TRUE(fc.input.flat);
  EXPECT_TRUE(fc.layer.linear().bias);
  EXPECT_EQ(fc.params, 512 * 1000 + 1000);
  EXPECT_EQ(fc.flops, int64_t{2} * 512 * 1000 * 3 * 8);
  const LayerCase bn = make_layer_case(LayerKind::kBatchNorm2d, {64, 56, 2});
  EXPECT_EQ(bn.input, (modelgen::TensorShape{64, 56, 56, false}));
  EXPECT_EQ(bn.params, 128);
  EXPECT_EQ(bn.flops, 0);
}

TEST(LayerCases, BadArgumentsAreNamed) {
  auto error_of = [](LayerKind kind, const std::vector<int64_t>& args) -> std::string {
    try {
      make_layer_case(kind, args);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(LayerKind::kConv2d, {64, 64, 3, 1, 3, 56, 1}).find("g:3"), std::string::npos);
  EXPECT_NE(error_of(LayerKind::kConv2d, {64, 64, 0, 1, 1, 56, 1}).find("k:0"), std::string::npos);
  EXPECT_NE(error_of(LayerKind::kLinear, {64, 64}).find("3 arguments"), std::string::npos);
  EXPECT_NE(error_of(LayerKind::kBatchNorm2d, {64, 56, -1}).find("bs:-1"), std::string::npos);
}

// The case's layer inside a network (layer -> flatten -> linear head), shaped by modelgen, and
// the LibTorch module the case trains: both must agree with the case's params and flops.
void expect_agrees_with_modelgen_and_torch(const LayerCase& c) {
  modelgen_torch::LayerTrainingStep step(c.layer, c.input, c.batch, c10::Device(c10::kCPU));
  EXPECT_EQ(modelgen_torch::parameter_count(step.module()), c.params);

  modelgen::NetSpec spec;
  spec.name = "probe";
  spec.input = {c.input.channels, c.input.height, c.input.width};
  spec.classes = 2;
  modelgen::Layer layer = c.layer;
  if (c.input.flat) {  // a flat input arrives through a flatten of [C, 1, 1]
    modelgen::Layer flat;
    flat.name = "in_flat";
    flat.op = modelgen::Op::kFlatten;
    flat.inputs = {"input"};
    spec.layers.push_back(flat);
    layer.inputs = {"in_flat"};
  }
  spec.layers.push_back(layer);
  modelgen::Layer flat;
  flat.name = "flat";
  flat.op = modelgen::Op::kFlatten;
  flat.inputs = {layer.name};
  spec.layers.push_back(flat);
  int64_t out_numel = 0;
  {
    c10::NoGradGuard no_grad;
    out_numel = modelgen_torch::LayerRunner(c.layer).run({step.input()}, true).numel() / c.batch;
  }
  modelgen::Layer head;
  head.name = "head";
  head.op = modelgen::Op::kLinear;
  head.inputs = {"flat"};
  head.attrs = modelgen::LinearAttrs{out_numel, 2, true};
  spec.layers.push_back(head);
  spec.output = "head";
  const modelgen::ShapedNet shaped = modelgen::infer_shapes(spec);
  const modelgen::LayerShape& s = shaped.layers[static_cast<size_t>(spec.find_layer(layer.name))];
  EXPECT_EQ(s.params, c.params);
  EXPECT_EQ(c.flops, 2 * s.forward_macs * 3 * c.batch);
}

TEST(LayerCases, QuickShapesAgreeWithModelgenAndTheModules) {
  const Sweep quick = sweep_preset("quick");
  for (const Conv2dShape& s : quick.conv2d) {
    SCOPED_TRACE("conv cin " + std::to_string(s.cin) + " k " + std::to_string(s.k));
    expect_agrees_with_modelgen_and_torch(make_layer_case(LayerKind::kConv2d, case_args(s, 2)));
  }
  for (const LinearShape& s : quick.linear)
    expect_agrees_with_modelgen_and_torch(make_layer_case(LayerKind::kLinear, case_args(s, 2)));
  for (const BatchNorm2dShape& s : quick.batchnorm2d)
    expect_agrees_with_modelgen_and_torch(make_layer_case(LayerKind::kBatchNorm2d, case_args(s, 2)));
}

}  // namespace
}  // namespace p4s::bench
