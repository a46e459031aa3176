// Layer cases: the argument names of the case names, and params and flops that agree with
// modelgen's shape inference and with the LibTorch module the case trains; the NetSpec 1.1
// kinds' cases train through LibTorch, their shapes are layers of the families, and their
// cost terms are what the same layers cost inside a network.
#include <gtest/gtest.h>

#include <ATen/ops/randn.h>
#include <c10/core/Device.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "bench/layer_cases.hpp"
#include "bench/sweep.hpp"
#include "evaluate/held_out_layers.hpp"
#include "modelgen/families.hpp"
#include "modelgen/network_library.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/training_step.hpp"
#include "sim/cost_terms.hpp"

namespace p4s::bench {
namespace {

// The new kinds' shapes of a sweep, in one list.
std::vector<results::CaseShape> new_kind_shapes(const Sweep& s) {
  std::vector<results::CaseShape> out;
  for (const ActivationShape& x : s.activation) out.emplace_back(x);
  for (const LayerNorm2dShape& x : s.layernorm2d) out.emplace_back(x);
  for (const ChannelShuffleShape& x : s.channel_shuffle) out.emplace_back(x);
  for (const SqueezeExcitationShape& x : s.squeeze_excitation) out.emplace_back(x);
  return out;
}

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
  ASSERT_EQ(c.layers.size(), 1u);
  const modelgen::Conv2dAttrs& a = c.layers[0].conv();
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
  EXPECT_TRUE(fc.layers.at(0).linear().bias);
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

// The case's layers inside a network (layers -> flatten -> linear head), shaped by modelgen,
// and the LibTorch module the case trains: both must agree with the case's params and flops.
void expect_agrees_with_modelgen_and_torch(const LayerCase& c) {
  modelgen_torch::LayerTrainingStep step(c.layers, c.input, c.batch, c10::Device(c10::kCPU));
  EXPECT_EQ(modelgen_torch::parameter_count(step.module()), c.params);

  modelgen::NetSpec spec;
  spec.name = "probe";
  spec.input = {c.input.channels, c.input.height, c.input.width};
  spec.classes = 2;
  std::vector<modelgen::Layer> layers = c.layers;
  if (c.input.flat) {  // a flat input arrives through a flatten of [C, 1, 1]
    modelgen::Layer flat;
    flat.name = "in_flat";
    flat.op = modelgen::Op::kFlatten;
    flat.inputs = {"input"};
    spec.layers.push_back(flat);
    layers[0].inputs = {"in_flat"};
  }
  for (const modelgen::Layer& l : layers) spec.layers.push_back(l);
  modelgen::Layer flat;
  flat.name = "flat";
  flat.op = modelgen::Op::kFlatten;
  flat.inputs = {layers.back().name};
  spec.layers.push_back(flat);
  int64_t out_numel = c.input.numel();  // a block keeps its input's shape
  if (c.layers.size() == 1) {
    c10::NoGradGuard no_grad;
    out_numel = modelgen_torch::LayerRunner(c.layers[0]).run({step.input()}, true).numel() / c.batch;
  }
  modelgen::Layer head;
  head.name = "head";
  head.op = modelgen::Op::kLinear;
  head.inputs = {"flat"};
  head.attrs = modelgen::LinearAttrs{out_numel, 2, true};
  spec.layers.push_back(head);
  spec.output = "head";
  const modelgen::ShapedNet shaped = modelgen::infer_shapes(spec);
  int64_t params = 0, macs = 0;
  for (const modelgen::Layer& l : c.layers) {
    const modelgen::LayerShape& s = shaped.layers[static_cast<size_t>(spec.find_layer(l.name))];
    params += s.params;
    macs += s.forward_macs;
  }
  EXPECT_EQ(params, c.params);
  EXPECT_EQ(c.flops, 2 * macs * 3 * c.batch);
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
  for (const results::CaseShape& s : new_kind_shapes(quick)) {
    SCOPED_TRACE(layer_case_name(results::kind_of(s), case_args(s, 2)));
    expect_agrees_with_modelgen_and_torch(make_layer_case(results::kind_of(s), case_args(s, 2)));
  }
}

// The NetSpec 1.1 kinds, one small case each: {kind, args, name}.
struct NewKindCase {
  LayerKind kind;
  std::vector<int64_t> args;
  const char* name;
};
const std::vector<NewKindCase> kNewKindCases = {
    {LayerKind::kSiLU, {8, 6, 3}, "SiLU/c:8/hw:6/bs:3"},
    {LayerKind::kHardswish, {8, 6, 3}, "Hardswish/c:8/hw:6/bs:3"},
    {LayerKind::kHardsigmoid, {8, 6, 3}, "Hardsigmoid/c:8/hw:6/bs:3"},
    {LayerKind::kSigmoid, {8, 6, 3}, "Sigmoid/c:8/hw:6/bs:3"},
    {LayerKind::kGELU, {8, 6, 3}, "GELU/c:8/hw:6/bs:3"},
    {LayerKind::kLayerNorm2d, {8, 6, 3}, "LayerNorm2d/c:8/hw:6/bs:3"},
    {LayerKind::kChannelShuffle, {12, 3, 6, 3}, "ChannelShuffle/c:12/g:3/hw:6/bs:3"},
    {LayerKind::kSqueezeExcitation, {16, 8, 6, 3}, "SqueezeExcitation/c:16/r:8/hw:6/bs:3"},
};

TEST(LayerCases, NewKindsNamesRoundTrip) {
  for (const NewKindCase& k : kNewKindCases) {
    SCOPED_TRACE(k.name);
    EXPECT_EQ(layer_case_name(k.kind, k.args), k.name);
    const std::string kind(layer_kind_name(k.kind));
    EXPECT_EQ(results::layer_kind_from_name(kind), k.kind);
    EXPECT_EQ(layer_arg_names(k.kind).back(), "bs");
    EXPECT_EQ(is_activation_kind(k.kind), k.args.size() == 3 && k.kind != LayerKind::kLayerNorm2d);
    // The reader's view: kind and arguments by name give the shape and the batch back.
    std::map<std::string, int64_t> by_name;
    for (size_t i = 0; i < k.args.size(); ++i) by_name[layer_arg_names(k.kind)[i]] = k.args[i];
    const std::optional<results::LayerCase> lc = results::layer_case(kind, by_name);
    ASSERT_TRUE(lc);
    EXPECT_EQ(results::kind_of(lc->shape), k.kind);
    EXPECT_EQ(lc->batch, k.args.back());
    EXPECT_EQ(case_args(lc->shape, lc->batch), k.args);
    by_name.erase("hw");
    EXPECT_FALSE(results::layer_case(kind, by_name));
  }
  EXPECT_FALSE(results::layer_kind_from_name("Silu"));  // names are exact
}

TEST(LayerCases, NewKindsRefuseBadArgumentsInOneLine) {
  auto error_of = [](LayerKind kind, const std::vector<int64_t>& args) -> std::string {
    try {
      make_layer_case(kind, args);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  const std::vector<std::string> errors = {
      error_of(LayerKind::kChannelShuffle, {116, 3, 28, 1}),
      error_of(LayerKind::kGELU, {384, 56}),
      error_of(LayerKind::kSqueezeExcitation, {96, 0, 14, 1}),
      error_of(LayerKind::kLayerNorm2d, {96, -56, 1}),
  };
  EXPECT_NE(errors[0].find("g:3 must divide c:116"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("GELU takes 3 arguments, got 2"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("r:0"), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("hw:-56"), std::string::npos) << errors[3];
  for (const std::string& e : errors) {
    EXPECT_FALSE(e.empty());
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

// Every new kind trains through LibTorch on the CPU: the input needs a gradient and gets one,
// parameters (layer norm's, the block's convolutions') move, the loss is finite.
TEST(LayerCases, NewKindsTrainOneStepThroughLibTorch) {
  for (const NewKindCase& k : kNewKindCases) {
    SCOPED_TRACE(k.name);
    const LayerCase c = make_layer_case(k.kind, k.args);
    modelgen_torch::LayerTrainingStep step(c.layers, c.input, c.batch, c10::Device(c10::kCPU));
    EXPECT_TRUE(step.input().requires_grad());
    std::vector<torch::Tensor> before;
    for (const torch::Tensor& p : step.module().parameters()) before.push_back(p.detach().clone());
    step.run();
    step.run();
    ASSERT_TRUE(step.input().grad().defined());
    EXPECT_EQ(step.input().grad().sizes(), step.input().sizes());
    EXPECT_TRUE(std::isfinite(step.last_loss().item<double>()));
    const auto after = step.module().parameters();
    ASSERT_EQ(after.size(), before.size());
    EXPECT_EQ(after.size(), k.kind == LayerKind::kLayerNorm2d ? 2u : k.kind == LayerKind::kSqueezeExcitation ? 4u : 0u);
    for (size_t i = 0; i < after.size(); ++i) EXPECT_FALSE(after[i].equal(before[i])) << i;
  }
}

// The sweeps' shapes of the new kinds are layers of the NetSpec 1.1 families at ImageNet size,
// as the evaluation's held-out filter finds them (so a held-out family's own layer cases leave
// the fit with it); every preset's shape makes a valid case.
TEST(LayerCases, NewKindShapesAreLayersOfTheFamilies) {
  modelgen::NetworkLibrary library;
  std::vector<results::CaseShape> family_shapes;
  for (const char* family : {"mobilenetv3small", "mobilenetv3large", "efficientnetb0", "shufflenetv2x0.5",
                             "shufflenetv2x1.0", "shufflenetv2x2.0", "regnety400mf", "convnexttiny", "mnasnet1.0"})
    for (results::CaseShape& s : evaluate::layer_case_shapes(library.get(family))) family_shapes.push_back(s);
  auto in_families = [&](const results::CaseShape& s) {
    return std::any_of(family_shapes.begin(), family_shapes.end(), [&](const results::CaseShape& f) {
      return f.index() == s.index() && case_args(f, 1) == case_args(s, 1) && results::kind_of(f) == results::kind_of(s);
    });
  };
  for (const char* preset : {"quick", "standard"}) {
    const Sweep sweep = sweep_preset(preset);
    const std::vector<results::CaseShape> shapes = new_kind_shapes(sweep);
    EXPECT_GE(shapes.size(), 8u) << preset;
    for (const results::CaseShape& s : shapes) {
      const std::string name = layer_case_name(results::kind_of(s), case_args(s, 1));
      EXPECT_TRUE(in_families(s)) << preset << ": " << name;
      for (int64_t bs : sweep.layer_batches) EXPECT_NO_THROW(make_layer_case(results::kind_of(s), case_args(s, bs))) << name;
    }
    // The 5x5 and 7x7 depthwise convolutions (MnasNet's, EfficientNet's, ConvNeXt's) too.
    int wide_depthwise = 0;
    for (const Conv2dShape& c : sweep.conv2d)
      if (c.g == c.cin && c.k >= 5) {
        ++wide_depthwise;
        EXPECT_TRUE(in_families(c)) << preset << ": depthwise " << c.k << "x" << c.k << " over " << c.cin;
      }
    EXPECT_GE(wide_depthwise, 2) << preset;
  }
}

// Each case's cost terms, layer by layer, are what layer_costs gives the same layers inside a
// network after a convolution (so that their input needs a gradient, as the case's does).
TEST(LayerCases, NewKindsCostTermsAreTheLayersCostsInANetwork) {
  for (const bool cpu : {false, true}) {
    sim::CostOptions options;
    options.cpu = cpu;
    for (const NewKindCase& k : kNewKindCases) {
      SCOPED_TRACE(k.name);
      const LayerCase c = make_layer_case(k.kind, k.args);
      std::map<std::string, int64_t> by_name;
      for (size_t i = 0; i < k.args.size(); ++i) by_name[layer_arg_names(k.kind)[i]] = k.args[i];
      const std::optional<std::vector<sim::LayerCost>> costs =
          sim::layer_case_costs(std::string(layer_kind_name(k.kind)), by_name, options);
      ASSERT_TRUE(costs);
      ASSERT_EQ(costs->size(), c.layers.size() + 2);  // the layers, the optimizer, the loss

      modelgen::NetSpec spec;
      spec.name = "probe";
      spec.input = {c.input.channels, c.input.height, c.input.width};
      spec.classes = 2;
      modelgen::Layer pre;
      pre.name = "pre";
      pre.op = modelgen::Op::kConv2d;
      pre.inputs = {"input"};
      modelgen::Conv2dAttrs a;
      a.in_channels = a.out_channels = c.input.channels;
      a.kernel = {1, 1};
      pre.attrs = a;
      spec.layers.push_back(pre);
      for (modelgen::Layer l : c.layers) {
        for (std::string& in : l.inputs)
          if (in == "input") in = "pre";
        spec.layers.push_back(l);
      }
      modelgen::Layer flat;
      flat.name = "flat";
      flat.op = modelgen::Op::kFlatten;
      flat.inputs = {c.layers.back().name};
      spec.layers.push_back(flat);
      modelgen::Layer head;
      head.name = "head";
      head.op = modelgen::Op::kLinear;
      head.inputs = {"flat"};
      head.attrs = modelgen::LinearAttrs{c.input.numel(), 2, true};
      spec.layers.push_back(head);
      spec.output = "head";
      const std::vector<sim::LayerCost> net = sim::layer_costs(spec, modelgen::infer_shapes(spec), options);
      double ops = 0;
      for (size_t i = 0; i < c.layers.size(); ++i) {
        const sim::LayerCost& x = (*costs)[i];
        const sim::LayerCost& y = net[i + 1];  // after `pre`
        EXPECT_DOUBLE_EQ(x.ops, y.ops) << i;
        EXPECT_DOUBLE_EQ(x.bytes, y.bytes) << i;
        EXPECT_DOUBLE_EQ(x.tile_flops, y.tile_flops) << i;
        EXPECT_DOUBLE_EQ(x.blas_flops, y.blas_flops) << i;
        EXPECT_EQ(x.blas_below_batch, y.blas_below_batch) << i;
        ops += x.ops;
      }
      EXPECT_GT(ops, 0);
      EXPECT_GT(costs->back().bytes, 0);  // the loss
    }
  }
}

}  // namespace
}  // namespace p4s::bench
