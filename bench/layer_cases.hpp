// Layer cases: one layer's training step alone, named by its kind and integer arguments
// (Google Benchmark's Args/ArgNames), e.g. "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32".
// The name grammar is the fit stage's input: see README, "Case names".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::bench {

enum class LayerKind { kConv2d, kLinear, kBatchNorm2d };
inline constexpr LayerKind kLayerKinds[] = {LayerKind::kConv2d, LayerKind::kLinear,
                                            LayerKind::kBatchNorm2d};

// "Conv2d", "Linear", "BatchNorm2d": the first part of the case name.
std::string_view layer_kind_name(LayerKind kind);
// The argument names, in name order; the batch size "bs" is always last.
//   Conv2d:      cin, cout, k, s, g, hw, bs
//   Linear:      in, out, bs
//   BatchNorm2d: c, hw, bs
const std::vector<std::string>& layer_arg_names(LayerKind kind);

// The case's name as Google Benchmark writes it, without its suffixes:
// "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32". `args` in layer_arg_names order.
std::string layer_case_name(LayerKind kind, const std::vector<int64_t>& args);

// The layer shapes of the sweeps, without the batch size.
struct Conv2dShape {  // k x k kernel, stride s, padding k / 2, groups g, no bias; hw x hw input
  int64_t cin, cout, k, s, g, hw;
};
struct LinearShape {  // with bias
  int64_t in, out;
};
struct BatchNorm2dShape {  // affine, running statistics; hw x hw input
  int64_t c, hw;
};

// A shape's case arguments at one batch size, in layer_arg_names order.
std::vector<int64_t> case_args(const Conv2dShape& s, int64_t batch);
std::vector<int64_t> case_args(const LinearShape& s, int64_t batch);
std::vector<int64_t> case_args(const BatchNorm2dShape& s, int64_t batch);

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
