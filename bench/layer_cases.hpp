// Layer cases: one layer's training step alone, named by its kind and integer arguments
// (Google Benchmark's Args/ArgNames), e.g. "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32".
// A squeeze-excitation block is one case of several layers, run the same way
// (LayerTrainingStep's block form), since its kernels' cost comes as a block in every network
// that has one. The name grammar is the results format's (results_format/format.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "results_format/format.hpp"

namespace p4s::bench {

// The layer kinds, their argument names, case names and shapes are the results format's
// (results_format/format.hpp), which the reader of results shares.
using results::ActivationShape;
using results::BatchNorm2dShape;
using results::case_args;
using results::ChannelShuffleShape;
using results::Conv2dShape;
using results::is_activation_kind;
using results::kLayerKinds;
using results::layer_arg_names;
using results::layer_case_name;
using results::layer_kind_name;
using results::LayerKind;
using results::LayerNorm2dShape;
using results::LinearShape;
using results::SqueezeExcitationShape;

// What one layer case runs and reports.
struct LayerCase {
  // One layer (inputs: {"input"}), or, for SqueezeExcitation, the block's layers in order,
  // the first taking "input", the last the block's output.
  std::vector<modelgen::Layer> layers;
  modelgen::TensorShape input;  // one sample's input shape
  int64_t batch = 0;
  int64_t params = 0;  // trainable parameter elements
  // Floating-point operations of one step, as ShapedNet::training_flops defines them, with
  // the input needing a gradient: 2 * MACs * (1 forward + 2 backward) * batch; 0 for
  // batch norm, activations, layer norm and shuffles, as for every op without
  // multiply-accumulates (a squeeze-excitation block counts its two 1x1 convolutions).
  int64_t flops = 0;
};

// The case of `kind` with `args` in layer_arg_names order. Throws std::invalid_argument
// naming the argument that does not make a valid layer (one line).
LayerCase make_layer_case(LayerKind kind, const std::vector<int64_t>& args);

}  // namespace p4s::bench
