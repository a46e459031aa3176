// What each layer of a training step costs, in the quantities the latency model weighs: ops
// the host dispatches (forward and backward kernels), FLOPs of convolutions and linear layers
// with channels padded to the kernels' tiles (grouped convolutions' apart: other kernels, e.g.
// oneDNN's weight gradient for 4 channels a group is a GEMM, for 16 a jit kernel), bytes moved
// by memory-bound work, and the bytes and taps (k x k multiply-adds per output) of depthwise
// convolutions, on their own kernels, which are also counted apart among the ops: a 5x5 costs
// more than its bytes say (the CPU's layer cases: about four times a 3x3's per byte), and on
// the CPU the weight gradient of any but a 3x3 runs oneDNN's GEMM path, at about a GFLOP/s
// (ONEDNN_VERBOSE: `x64:gemm:jit` for backward_weights, `jit_dw` for the rest); on a GPU,
// PyTorch's own depthwise kernels are compiled for 3x3 and 1x1 filters, and any other size runs
// a generic kernel that loops over the filter at run time, whose taps cost far more than a 3x3
// kernel's (at one rate for both, the 5x5 layers' time went into every convolution's FLOP
// rate). The optimizer's update is one more "layer". Work grows with the batch; ops do not.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "results_format/recipe.hpp"

namespace p4s::sim {

struct LayerCost {
  double ops = 0;              // kernels dispatched per step
  double tile_flops = 0;       // per sample: convolutions with one group
  double grouped_flops = 0;    // per sample: grouped convolutions (not depthwise), tile-padded per group
  double linear_flops = 0;     // per sample: linear layers (BLAS GEMMs), tile-padded too
  double bytes = 0;            // per sample
  double depthwise_bytes = 0;  // per sample
  double depthwise_flops = 0;  // per sample: k x k multiply-adds per output element, as FLOPs
  // per sample: the weight gradient of a depthwise convolution that oneDNN runs as one small
  // GEMM per channel (kernels other than 3x3, whose jit path covers only the forward and the
  // input gradient), as FLOPs; such a convolution's depthwise_flops count the other passes.
  // CPU only: GPUs' depthwise kernels have no such split.
  double depthwise_gemm_flops = 0;
  // per sample: on a GPU, the taps (as FLOPs, every pass) of a depthwise convolution whose filter
  // size has no kernel of its own (other than 3x3 and 1x1); its depthwise_flops are then 0.
  double generic_depthwise_flops = 0;
  double depthwise_ops = 0;    // per step: of `ops`, the depthwise convolutions' kernels
  double fixed_bytes = 0;      // per step (the optimizer's parameter traffic)
  // Below this batch size the convolution runs as a plain GEMM on the BLAS (LibTorch's native
  // CPU path), costing as linear layers do; 0: never.
  int64_t blas_below_batch = 0;
  double blas_flops = 0;  // per sample: the convolution's FLOPs as the BLAS GEMM does them, unpadded
  // per sample: elements through an exp or erf (SiLU, sigmoid, GELU, forward and backward),
  // work that their bytes do not say.
  double transcendental = 0;
};

// Where the step runs, as far as kernel paths are concerned.
struct CostOptions {
  bool cpu = false;
  int cpu_threads = 1;
  int channel_tile = 32;  // channels a kernel computes at once: GEMM tiles on a GPU, oneDNN's
                          // blocks on a CPU (DeviceRuntime::cpu_channel_block)
};

// One entry per layer that runs kernels (flatten is a view), then the optimizer's and the
// loss's, for a step that follows `recipe`: a frozen layer runs its forward only, the first
// trainable one no input gradient, and the optimizer's work is its own (optimizer_step.hpp).
// Throws InputError for a train_from no layer has.
std::vector<LayerCost> layer_costs(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net,
                                   const CostOptions& options = {},
                                   const results::Recipe& recipe = results::default_recipe());

// The costs of a bench layer case (`Conv2d`, `Linear`, `BatchNorm2d`, the activations `SiLU`,
// `Hardswish`, `Hardsigmoid`, `Sigmoid`, `GELU`, `LayerNorm2d`, `ChannelShuffle`,
// `SqueezeExcitation` with their arguments, bench/README.md): the layer (the block's layers,
// one entry each), whose input needs a gradient, the optimizer over the parameters, and the
// scalar loss out.mean(); each layer as layer_costs costs it inside a network. nullopt for a
// kind or arguments it does not know.
std::optional<std::vector<LayerCost>> layer_case_costs(const std::string& kind,
                                                       const std::map<std::string, int64_t>& args,
                                                       const CostOptions& options = {},
                                                       const results::Recipe& recipe = results::default_recipe());

}  // namespace p4s::sim
