#include "bench/layer_cases.hpp"

#include <stdexcept>
#include <utility>

namespace p4s::bench {
namespace {

// Keeps every product of the checks below inside int64.
constexpr int64_t kMaxArg = int64_t{1} << 24;

void check_args(LayerKind kind, const std::vector<int64_t>& args) {
  const std::vector<std::string>& names = layer_arg_names(kind);
  if (args.size() != names.size())
    throw std::invalid_argument(std::string(layer_kind_name(kind)) + " takes " +
                                std::to_string(names.size()) + " arguments, got " +
                                std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] <= 0 || args[i] > kMaxArg)
      throw std::invalid_argument(names[i] + ":" + std::to_string(args[i]) +
                                  " must be from 1 to " + std::to_string(kMaxArg));
}

int64_t mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw std::invalid_argument("sizes are too large");
  return r;
}

modelgen::Op activation_op(LayerKind kind) {
  switch (kind) {
    case LayerKind::kSiLU: return modelgen::Op::kSilu;
    case LayerKind::kHardswish: return modelgen::Op::kHardswish;
    case LayerKind::kHardsigmoid: return modelgen::Op::kHardsigmoid;
    case LayerKind::kSigmoid: return modelgen::Op::kSigmoid;
    case LayerKind::kGELU: return modelgen::Op::kGelu;
    default: throw std::logic_error("activation_op: not an activation kind");
  }
}

modelgen::Layer layer(std::string name, modelgen::Op op, std::string input, modelgen::LayerAttrs attrs) {
  modelgen::Layer l;
  l.name = std::move(name);
  l.op = op;
  l.inputs = {std::move(input)};
  l.attrs = std::move(attrs);
  return l;
}

modelgen::Conv2dAttrs conv1x1(int64_t cin, int64_t cout) {
  modelgen::Conv2dAttrs a;
  a.in_channels = cin;
  a.out_channels = cout;
  a.kernel = {1, 1};
  a.bias = true;
  return a;
}

// ConvNeXt's layer norms' epsilon (the kernels do not depend on it).
constexpr double kLayerNormEps = 1e-6;

}  // namespace

LayerCase make_layer_case(LayerKind kind, const std::vector<int64_t>& args) {
  check_args(kind, args);
  LayerCase c;
  c.batch = args.back();
  const std::string input(modelgen::kInputName);
  int64_t macs = 0;  // per sample
  switch (kind) {
    case LayerKind::kConv2d: {
      const int64_t cin = args[0], cout = args[1], k = args[2], s = args[3], g = args[4], hw = args[5];
      if (cin % g != 0 || cout % g != 0)
        throw std::invalid_argument("g:" + std::to_string(g) + " must divide cin:" +
                                    std::to_string(cin) + " and cout:" + std::to_string(cout));
      const int64_t out = modelgen::window_output_size(hw, k, s, k / 2, 1, false);
      if (out <= 0)
        throw std::invalid_argument("k:" + std::to_string(k) + " does not fit hw:" + std::to_string(hw));
      modelgen::Conv2dAttrs a;
      a.in_channels = cin;
      a.out_channels = cout;
      a.kernel = {k, k};
      a.stride = {s, s};
      a.padding = {k / 2, k / 2};
      a.groups = g;
      a.bias = false;
      c.layers = {layer("conv", modelgen::Op::kConv2d, input, a)};
      c.input = modelgen::TensorShape{cin, hw, hw, false};
      c.params = mul(mul(cout, cin / g), k * k);
      macs = mul(out * out, c.params);
      break;
    }
    case LayerKind::kLinear: {
      const int64_t in = args[0], out = args[1];
      c.layers = {layer("fc", modelgen::Op::kLinear, input, modelgen::LinearAttrs{in, out, true})};
      c.input = modelgen::TensorShape{in, 1, 1, true};
      macs = mul(in, out);
      c.params = macs + out;
      break;
    }
    case LayerKind::kBatchNorm2d: {
      const int64_t ch = args[0], hw = args[1];
      c.layers = {layer("bn", modelgen::Op::kBatchNorm2d, input, modelgen::BatchNorm2dAttrs{ch})};
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      c.params = 2 * ch;
      break;
    }
    case LayerKind::kSiLU:
    case LayerKind::kHardswish:
    case LayerKind::kHardsigmoid:
    case LayerKind::kSigmoid:
    case LayerKind::kGELU: {
      // Not in place: in place on the input, a leaf that needs a gradient, is refused.
      const int64_t ch = args[0], hw = args[1];
      c.layers = {layer("act", activation_op(kind), input, modelgen::ActivationAttrs{false})};
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      break;
    }
    case LayerKind::kLayerNorm2d: {
      const int64_t ch = args[0], hw = args[1];
      c.layers = {layer("norm", modelgen::Op::kLayerNorm2d, input, modelgen::ChannelAttrs{ch, kLayerNormEps})};
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      c.params = 2 * ch;
      break;
    }
    case LayerKind::kChannelShuffle: {
      const int64_t ch = args[0], g = args[1], hw = args[2];
      if (ch % g != 0)
        throw std::invalid_argument("g:" + std::to_string(g) + " must divide c:" + std::to_string(ch));
      c.layers = {layer("shuffle", modelgen::Op::kChannelShuffle, input, modelgen::ChannelShuffleAttrs{g})};
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      break;
    }
    case LayerKind::kSqueezeExcitation: {
      // torchvision's SqueezeExcitation as MobileNetV3 builds it (modelgen/families/blocks.cpp):
      // the scale first in the product.
      const int64_t ch = args[0], r = args[1], hw = args[2];
      c.layers = {
          layer("avgpool", modelgen::Op::kAdaptiveAvgPool2d, input, modelgen::AdaptivePool2dAttrs{{1, 1}}),
          layer("fc1", modelgen::Op::kConv2d, "avgpool", conv1x1(ch, r)),
          layer("activation", modelgen::Op::kRelu, "fc1", modelgen::ActivationAttrs{false}),
          layer("fc2", modelgen::Op::kConv2d, "activation", conv1x1(r, ch)),
          layer("scale_activation", modelgen::Op::kHardsigmoid, "fc2", modelgen::ActivationAttrs{false}),
          layer("mul", modelgen::Op::kMul, "scale_activation", std::monostate{}),
      };
      c.layers.back().inputs.push_back(input);
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      macs = mul(mul(ch, r), 2);
      c.params = macs + r + ch;
      break;
    }
  }
  c.flops = mul(mul(macs, 6), c.batch);
  return c;
}

}  // namespace p4s::bench
