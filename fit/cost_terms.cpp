#include "fit/cost_terms.hpp"

#include <cmath>

namespace p4s::fit {
namespace {

using modelgen::Op;

constexpr double kFloat = 4.0;
// GEMM-based convolution kernels compute whole tiles of channels: a layer of 33 channels costs
// about what one of 64 does. The tile width is a property of the kernels, not of the device.
constexpr double kChannelTile = 32.0;

double padded(double channels) { return std::ceil(channels / kChannelTile) * kChannelTile; }

bool is_depthwise(const modelgen::Conv2dAttrs& a) { return a.groups > 1 && a.groups == a.in_channels; }

}  // namespace

std::vector<LayerCost> layer_costs(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net) {
  std::vector<LayerCost> out;
  double param_tensors = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& l = spec.layers[i];
    const auto& s = net.layers[i];
    const double in = net.shape_of(s.inputs[0]).numel() * kFloat;  // per sample
    const double o = s.out.numel() * kFloat;
    const bool input_grad = s.inputs[0] >= 0 && net.layers[static_cast<size_t>(s.inputs[0])].requires_grad;
    // Forward, weight gradient, and input gradient when one is needed.
    const double passes = input_grad ? 3 : 2;
    LayerCost c;
    switch (l.op) {
      case Op::kConv2d: {
        const auto& a = l.conv();
        param_tensors += a.bias ? 2 : 1;
        c.ops = passes;
        if (is_depthwise(a)) {
          c.depthwise_bytes = (in + o) * passes;
        } else {
          const double g = static_cast<double>(a.groups);
          c.tile_flops = 2.0 * g * padded(a.in_channels / g) * padded(a.out_channels / g) * a.kernel.h *
                         a.kernel.w * s.out.height * s.out.width * passes;
          c.bytes = (in + o) * passes;
        }
        break;
      }
      case Op::kLinear:
        param_tensors += l.linear().bias ? 2 : 1;
        c.ops = passes;
        c.tile_flops = 2.0 * padded(l.linear().in_features) * padded(l.linear().out_features) * passes;
        c.bytes = (in + o) * passes;
        break;
      case Op::kBatchNorm2d:
        param_tensors += 2;
        c.ops = 2;
        c.bytes = in * 7;  // forward: statistics, normalisation; backward: four passes
        break;
      case Op::kRelu:
      case Op::kRelu6:
        c.ops = 2;
        c.bytes = in * 5;
        break;
      case Op::kMaxPool2d:
      case Op::kAvgPool2d:
      case Op::kAdaptiveAvgPool2d:
        c.ops = 2;
        c.bytes = in * 2 + o * 3;
        break;
      case Op::kAdd:
        c.ops = 1;
        c.bytes = o * 3;
        break;
      case Op::kConcat:
        c.ops = 2;
        c.bytes = o * 4;
        break;
      case Op::kDropout:
        c.ops = 2;
        c.bytes = in * 4;
        break;
      case Op::kFlatten:
        continue;  // a view: no kernel
    }
    out.push_back(c);
  }
  // The optimizer (SGD with momentum and weight decay: about four kernels per parameter
  // tensor, reading and writing parameters, gradients and momentum) and zero_grad.
  LayerCost opt;
  opt.ops = 5 * param_tensors;
  opt.fixed_bytes = static_cast<double>(net.params) * kFloat * 8;
  out.push_back(opt);
  // The loss (log-softmax and NLL, forward and backward).
  LayerCost loss;
  loss.ops = 4;
  loss.bytes = static_cast<double>(spec.classes) * kFloat * 6;
  out.push_back(loss);
  return out;
}

}  // namespace p4s::fit
