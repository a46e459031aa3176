// Latency cost terms per layer: the quantities each kernel path costs on a CPU and a GPU.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "modelgen/builtin.hpp"
#include "common/input_error.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "sim/cost_terms.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::sim {
namespace {

TEST(CostTerms, ConvolutionsOnTheCpuBlasPathAreNotPaddedToTiles) {
  // A pruned 1x1 convolution, 5 -> 7 channels at 56x56: LibTorch 1.13 on one CPU thread runs
  // it as a BLAS GEMM below batch 16, oneDNN above, which computes whole tiles of channels.
  const std::map<std::string, int64_t> args{{"cin", 5}, {"cout", 7}, {"k", 1}, {"s", 1}, {"g", 1}, {"hw", 56}, {"bs", 4}};
  sim::CostOptions cpu;
  cpu.cpu = true;
  const auto costs = sim::layer_case_costs("Conv2d", args, cpu);
  ASSERT_TRUE(costs);
  const sim::LayerCost& conv = costs->front();
  EXPECT_EQ(conv.blas_below_batch, 16);
  const double passes = 3;  // forward, weight gradient, input gradient
  EXPECT_DOUBLE_EQ(conv.blas_flops, 2.0 * 5 * 7 * 56 * 56 * passes);
  EXPECT_DOUBLE_EQ(conv.tile_flops, 2.0 * 32 * 32 * 56 * 56 * passes);
  // Off the CPU there is no BLAS path.
  const sim::LayerCost gpu = sim::layer_case_costs("Conv2d", args)->front();
  EXPECT_EQ(gpu.blas_below_batch, 0);
  EXPECT_EQ(gpu.blas_flops, 0);
}

// oneDNN computes a depthwise convolution's forward and input gradient with its jit kernels for
// every kernel size, its weight gradient only for 3x3: other sizes take the GEMM path.
TEST(CostTerms, OnTheCpuADepthwiseWeightGradientOtherThan3x3RunsAsGemms) {
  const double out = 96.0 * 8 * 8;  // per sample, stride 1
  sim::CostOptions cpu;
  cpu.cpu = true;
  for (int64_t k : {3, 5, 7}) {
    const std::map<std::string, int64_t> args{{"cin", 96}, {"cout", 96}, {"k", k}, {"s", 1}, {"g", 96}, {"hw", 8}, {"bs", 8}};
    const double taps = 2.0 * k * k * out;  // one pass
    const sim::LayerCost c = sim::layer_case_costs("Conv2d", args, cpu)->front();
    const sim::LayerCost g = sim::layer_case_costs("Conv2d", args)->front();
    if (k == 3) {
      EXPECT_DOUBLE_EQ(c.depthwise_gemm_flops, 0);
      EXPECT_DOUBLE_EQ(c.depthwise_flops, 3 * taps);
    } else {
      EXPECT_DOUBLE_EQ(c.depthwise_gemm_flops, taps) << k;
      EXPECT_DOUBLE_EQ(c.depthwise_flops, 2 * taps) << k;  // forward, input gradient
    }
    EXPECT_DOUBLE_EQ(g.depthwise_gemm_flops, 0) << k;  // a GPU has no such split
    EXPECT_DOUBLE_EQ(c.generic_depthwise_flops, 0) << k;
  }
}

// PyTorch's CUDA depthwise kernels are compiled for 3x3 and 1x1 filters; other sizes run a
// generic kernel, whose taps are a quantity of their own (every pass); a CPU has no such split.
TEST(CostTerms, OnAGpuDepthwiseFiltersOtherThan3x3And1x1RunAGenericKernel) {
  const double out = 96.0 * 8 * 8;  // per sample, stride 1
  for (int64_t k : {1, 3, 5, 7}) {
    const std::map<std::string, int64_t> args{{"cin", 96}, {"cout", 96}, {"k", k}, {"s", 1}, {"g", 96}, {"hw", 8}, {"bs", 8}};
    const double taps = 2.0 * k * k * out;  // one pass
    const sim::LayerCost g = sim::layer_case_costs("Conv2d", args)->front();
    const bool own_kernel = k == 1 || k == 3;
    EXPECT_DOUBLE_EQ(g.depthwise_flops, own_kernel ? 3 * taps : 0) << k;
    EXPECT_DOUBLE_EQ(g.generic_depthwise_flops, own_kernel ? 0 : 3 * taps) << k;
    EXPECT_DOUBLE_EQ(g.depthwise_bytes, 2 * 96.0 * 8 * 8 * 4 * 3) << k;  // input and output, each pass
    EXPECT_EQ(g.depthwise_ops, 3) << k;
  }
  // A grouped convolution that is not depthwise runs as GEMMs whatever its filter.
  const std::map<std::string, int64_t> grouped{{"cin", 96}, {"cout", 96}, {"k", 5}, {"s", 1}, {"g", 32}, {"hw", 8}, {"bs", 8}};
  EXPECT_EQ(sim::layer_case_costs("Conv2d", grouped)->front().generic_depthwise_flops, 0);
}

// A grouped convolution's FLOPs, each group's channels padded to tiles, are its own quantity.
TEST(CostTerms, GroupedConvolutionsCountApartFromThoseWithOneGroup) {
  const std::map<std::string, int64_t> grouped{{"cin", 128}, {"cout", 128}, {"k", 3}, {"s", 1}, {"g", 32}, {"hw", 8}, {"bs", 8}};
  sim::CostOptions cpu;
  cpu.cpu = true;
  cpu.channel_tile = 16;
  const sim::LayerCost c = sim::layer_case_costs("Conv2d", grouped, cpu)->front();
  EXPECT_EQ(c.tile_flops, 0);
  EXPECT_DOUBLE_EQ(c.grouped_flops, 2.0 * 32 * 16 * 16 * 3 * 3 * 8 * 8 * 3);  // 4 channels a group -> 16
  std::map<std::string, int64_t> dense = grouped;
  dense["g"] = 1;
  const sim::LayerCost d = sim::layer_case_costs("Conv2d", dense, cpu)->front();
  EXPECT_EQ(d.grouped_flops, 0);
  EXPECT_DOUBLE_EQ(d.tile_flops, 2.0 * 128 * 128 * 3 * 3 * 8 * 8 * 3);
}

// Convolutions cost whole tiles of channels, as wide as the device's kernels compute them: GEMM
// tiles of 32 on a GPU, oneDNN's blocks of the runtime's width on a CPU.
TEST(CostTerms, ChannelTilesAreTheDevicesKernelWidth) {
  const std::map<std::string, int64_t> args{{"cin", 17}, {"cout", 5}, {"k", 3}, {"s", 1}, {"g", 1}, {"hw", 8}, {"bs", 32}};
  const double per_tile_pair = 2.0 * 3 * 3 * 8 * 8 * 3;  // 3x3 at 8x8; forward and two gradients
  sim::DeviceRuntime gpu;
  EXPECT_DOUBLE_EQ(sim::layer_case_costs("Conv2d", args, sim::cost_options(gpu))->front().tile_flops, 32 * 32 * per_tile_pair);
  sim::DeviceRuntime cpu;
  cpu.kind = sim::DeviceKind::kCpu;
  cpu.cpu_channel_block = 16;  // AVX-512
  EXPECT_DOUBLE_EQ(sim::layer_case_costs("Conv2d", args, sim::cost_options(cpu))->front().tile_flops, 32 * 16 * per_tile_pair);
  cpu.cpu_channel_block = 8;  // AVX2
  EXPECT_DOUBLE_EQ(sim::layer_case_costs("Conv2d", args, sim::cost_options(cpu))->front().tile_flops, 24 * 8 * per_tile_pair);
  const std::map<std::string, int64_t> linear{{"in", 17}, {"out", 5}, {"bs", 32}};
  cpu.cpu_channel_block = 16;
  EXPECT_DOUBLE_EQ(sim::layer_case_costs("Linear", linear, sim::cost_options(cpu))->front().linear_flops, 2.0 * 32 * 16 * 3);
}


// conv (1 -> 2, 1x1, no bias) -> relu -> flatten -> fc (8 -> 3): costs hand-countable.
modelgen::NetSpec chain() {
  return modelgen::parse_netspec(R"({
    "netspec": 1, "name": "chain", "input": {"channels": 1, "height": 2, "width": 2}, "classes": 3,
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 1, "out_channels": 2, "kernel": [1, 1], "bias": false},
      {"name": "relu", "op": "relu", "inputs": ["conv"], "inplace": false},
      {"name": "flat", "op": "flatten", "inputs": ["relu"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 8, "out_features": 3, "bias": true}],
    "output": "fc"})", "chain.json");
}

double total_ops(const std::vector<LayerCost>& costs) {
  double ops = 0;
  for (const LayerCost& c : costs) ops += c.ops;
  return ops;
}

// The default recipe: every layer trains; the first convolution computes no input gradient
// (the batch needs none); the optimizer, SGD with momentum and weight decay, runs five kernels
// per parameter tensor (zero_grad's included) and moves eight floats per parameter.
TEST(CostTerms, TheDefaultStepCountsEveryBackwardAndFiveOptimizerKernelsATensor) {
  const auto spec = chain();
  const auto net = modelgen::infer_shapes(spec);
  const auto costs = layer_costs(spec, net);
  ASSERT_EQ(costs.size(), 5u);  // conv, relu, fc, optimizer, loss
  EXPECT_EQ(costs[0].ops, 2);   // forward, weight gradient
  EXPECT_EQ(costs[1].ops, 2);   // forward, backward
  EXPECT_EQ(costs[2].ops, 3);   // forward, weight and input gradients
  EXPECT_EQ(costs[3].ops, 5 * 3);  // conv weight, fc weight and bias
  EXPECT_DOUBLE_EQ(costs[3].fixed_bytes, (2 + 24 + 3) * 4.0 * 8);
}

// Training from fc: the convolution and relu run their forward only, fc no input gradient, and
// the optimizer steps fc's two tensors alone.
TEST(CostTerms, AFrozenPrefixRunsItsForwardOnly) {
  const auto spec = chain();
  const auto net = modelgen::infer_shapes(spec);
  results::Recipe r;
  r.train_from = "fc";
  const auto costs = layer_costs(spec, net, {}, r);
  ASSERT_EQ(costs.size(), 5u);
  EXPECT_EQ(costs[0].ops, 1);
  EXPECT_EQ(costs[1].ops, 1);
  EXPECT_EQ(costs[2].ops, 2);
  EXPECT_EQ(costs[3].ops, 5 * 2);
  EXPECT_DOUBLE_EQ(costs[3].fixed_bytes, (24 + 3) * 4.0 * 8);
  const auto all = layer_costs(spec, net);
  EXPECT_LT(costs[1].bytes, all[1].bytes);
  EXPECT_EQ(total_ops(all) - total_ops(costs), 1 + 1 + 1 + 5);  // conv, relu, fc's input gradient, conv's weight
  EXPECT_EQ(costs[4].ops, all[4].ops);  // the loss is the same
  r.train_from = "fc9";
  EXPECT_THROW(layer_costs(spec, net, {}, r), InputError);
}

// Each optimizer's kernels per parameter tensor, zero_grad's included: Adam's moments, square
// root, bias correction and update against SGD's few; no weight decay, no kernel for it.
TEST(CostTerms, EachOptimizerCostsItsOwnKernels) {
  const auto spec = chain();
  const auto net = modelgen::infer_shapes(spec);
  auto optimizer_ops = [&](const results::Recipe& r) { return layer_costs(spec, net, {}, r)[3].ops / 3; };
  results::Recipe r;
  EXPECT_EQ(optimizer_ops(r), 5);
  r.weight_decay = 0;
  EXPECT_EQ(optimizer_ops(r), 4);
  r.momentum = 0;
  EXPECT_EQ(optimizer_ops(r), 2);
  r = results::Recipe{};
  r.optimizer = results::Optimizer::kSgdNesterov;
  EXPECT_EQ(optimizer_ops(r), 6);
  r.optimizer = results::Optimizer::kAdam;
  EXPECT_EQ(optimizer_ops(r), 10);
  r.weight_decay = 0;
  EXPECT_EQ(optimizer_ops(r), 9);
  r.optimizer = results::Optimizer::kAdamW;
  r.weight_decay = 0.01;
  EXPECT_EQ(optimizer_ops(r), 10);
  // Adam moves more than SGD per parameter.
  EXPECT_GT(layer_costs(spec, net, {}, r)[3].fixed_bytes, layer_costs(spec, net)[3].fixed_bytes);
}

// The NetSpec 1.1 layer cases: element-wise kinds cost bytes and two kernels (forward and
// backward) and no FLOPs; the squeeze-excitation block costs its six layers, its two 1x1
// convolutions' FLOPs among them; the optimizer updates what trains. Bad arguments: nullopt.
// The exp and erf of SiLU, sigmoid and GELU per element, forward and backward: SiLU one each
// way, sigmoid's backward none (it reuses its result), GELU's backward two; the piecewise-linear
// activations none.
TEST(CostTerms, TranscendentalActivationsCountTheirExpAndErf) {
  const double n = 96.0 * 14 * 14;  // one sample's elements
  const std::map<std::string, double> per_element{
      {"SiLU", 2}, {"Sigmoid", 1}, {"GELU", 3}, {"Hardswish", 0}, {"Hardsigmoid", 0}, {"LayerNorm2d", 0}};
  for (const auto& [kind, count] : per_element) {
    const auto costs = layer_case_costs(kind, {{"c", 96}, {"hw", 14}, {"bs", 8}});
    ASSERT_TRUE(costs) << kind;
    EXPECT_DOUBLE_EQ(costs->front().transcendental, count * n) << kind;
  }
  // A convolution has none.
  EXPECT_EQ(layer_case_costs("Conv2d", {{"cin", 8}, {"cout", 8}, {"k", 3}, {"s", 1}, {"g", 1}, {"hw", 8}, {"bs", 2}})
                ->front()
                .transcendental,
            0);
}

TEST(CostTerms, NetSpec11LayerCasesCostTheirLayers) {
  const double x = 4.0 * 96 * 14 * 14;  // one sample's input bytes
  for (const char* kind : {"SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "GELU", "LayerNorm2d"}) {
    const auto costs = layer_case_costs(kind, {{"c", 96}, {"hw", 14}, {"bs", 8}});
    ASSERT_TRUE(costs) << kind;
    ASSERT_EQ(costs->size(), 3u) << kind;  // the layer, the optimizer, the loss
    const LayerCost& l = costs->front();
    EXPECT_GE(l.ops, 2) << kind;
    EXPECT_GE(l.bytes, 2 * x) << kind;
    EXPECT_EQ(l.tile_flops + l.linear_flops + l.grouped_flops + l.depthwise_flops, 0) << kind;
    const bool norm = std::string(kind) == "LayerNorm2d";
    EXPECT_EQ((*costs)[1].fixed_bytes > 0, norm) << kind;  // only layer norm has parameters
    EXPECT_GT((*costs)[2].bytes, 0) << kind;
  }
  // An activation costs as the same op does in a network (cost_of's activation case).
  EXPECT_DOUBLE_EQ(layer_case_costs("SiLU", {{"c", 96}, {"hw", 14}, {"bs", 8}})->front().bytes, x * 2 + x * 3);

  const auto shuffle = layer_case_costs("ChannelShuffle", {{"c", 116}, {"g", 2}, {"hw", 28}, {"bs", 4}});
  ASSERT_TRUE(shuffle);
  EXPECT_DOUBLE_EQ(shuffle->front().bytes, 4.0 * 116 * 28 * 28 * 4);  // a copy each way
  EXPECT_FALSE(layer_case_costs("ChannelShuffle", {{"c", 116}, {"g", 3}, {"hw", 28}, {"bs", 4}}));

  const auto se = layer_case_costs("SqueezeExcitation", {{"c", 96}, {"r", 24}, {"hw", 14}, {"bs", 4}});
  ASSERT_TRUE(se);
  ASSERT_EQ(se->size(), 8u);  // pool, fc1, relu, fc2, hardsigmoid, mul; the optimizer, the loss
  double flops = 0, ops = 0;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_GT((*se)[i].ops, 0) << i;
    flops += (*se)[i].tile_flops;
    ops += (*se)[i].ops;
  }
  // Both 1x1 convolutions on [c, 1, 1], three passes, channels padded to tiles of 32.
  EXPECT_DOUBLE_EQ(flops, 2 * (2.0 * 96 * 32 * 3));
  EXPECT_DOUBLE_EQ((*se)[5].bytes, x * 3 + x * 6);  // the product, as mul costs in a network
  EXPECT_DOUBLE_EQ((*se)[6].ops, 5.0 * 4);           // the default SGD's five kernels a tensor, 4 tensors
  EXPECT_GT((*se)[6].fixed_bytes, 0);
  EXPECT_GT(ops, 12);

  EXPECT_FALSE(layer_case_costs("SqueezeExcitation", {{"c", 96}, {"hw", 14}, {"bs", 4}}));
  EXPECT_FALSE(layer_case_costs("GELU", {{"c", 0}, {"hw", 14}, {"bs", 4}}));
  EXPECT_FALSE(layer_case_costs("Gelu", {{"c", 96}, {"hw", 14}, {"bs", 4}}));
}

}  // namespace
}  // namespace p4s::sim
