// Layer cases: one layer's training step alone, named by its kind and integer arguments
// (Google Benchmark's Args/ArgNames), e.g. "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32".
// The name grammar is the results format's (results_format/format.hpp).
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
using results::BatchNorm2dShape;
using results::case_args;
using results::Conv2dShape;
using results::kLayerKinds;
using results::layer_arg_names;
using results::layer_case_name;
using results::layer_kind_name;
using results::LayerKind;
using results::LinearShape;

// What one layer case runs and reports.
struct LayerCase {
  modelgen::Layer layer;        // inputs: {"input"}
  modelgen::TensorShape input;  // one sample's input shape
  int64_t batch = 0;
  int64_t params = 0;  // trainable parameter elements
  // Floating-point operations of one step, as ShapedNet::training_flops defines them, with
  // the input needing a gradient: 2 * MACs * (1 forward + 2 backward) * batch; 0 for
  // batch norm, as for every op without multiply-accumulates.
  int64_t flops = 0;
};

// The case of `kind` with `args` in layer_arg_names order. Throws std::invalid_argument
// naming the argument that does not make a valid layer.
LayerCase make_layer_case(LayerKind kind, const std::vector<int64_t>& args);

}  // namespace p4s::bench
