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

const std::vector<std::string>& host_term_names() {
  static const std::vector<std::string> names{"host_step", "host_ops", "host_param_tensors"};
  return names;
}

const std::vector<std::string>& device_term_names() {
  static const std::vector<std::string> names{"device_step",     "device_kernels",
                                              "gemm_tile_flops", "depthwise_bytes",
                                              "conv_bytes",      "memory_bound_bytes"};
  return names;
}

CostTerms host_terms(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net) {
  double ops = 0, param_tensors = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& l = spec.layers[i];
    if (l.op == Op::kFlatten) continue;  // a view: no kernel
    const auto& s = net.layers[i];
    ops += s.requires_grad ? 2 : 1;  // forward, and backward when a gradient flows
    if (l.op == Op::kConv2d) param_tensors += l.conv().bias ? 2 : 1;
    if (l.op == Op::kLinear) param_tensors += l.linear().bias ? 2 : 1;
    if (l.op == Op::kBatchNorm2d) param_tensors += 2;
  }
  CostTerms t;
  t.fixed = {1.0, ops, param_tensors};
  t.per_sample = arma::zeros(3);
  return t;
}

CostTerms device_terms(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net) {
  double kernels = 0, tile_flops = 0, dw_bytes = 0, conv_bytes = 0, mem_bytes = 0;
  double param_tensors = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& l = spec.layers[i];
    const auto& s = net.layers[i];
    const double in = net.shape_of(s.inputs[0]).numel() * kFloat;  // per sample
    const double out = s.out.numel() * kFloat;
    const bool input_grad = s.inputs[0] >= 0 && net.layers[static_cast<size_t>(s.inputs[0])].requires_grad;
    // Forward, weight gradient, and input gradient when one is needed.
    const double passes = input_grad ? 3 : 2;
    switch (l.op) {
      case Op::kConv2d: {
        const auto& a = l.conv();
        param_tensors += a.bias ? 2 : 1;
        kernels += passes;
        if (is_depthwise(a)) {
          dw_bytes += (in + out) * passes;
          break;
        }
        const double g = static_cast<double>(a.groups);
        tile_flops += 2.0 * g * padded(a.in_channels / g) * padded(a.out_channels / g) *
                      a.kernel.h * a.kernel.w * s.out.height * s.out.width * passes;
        conv_bytes += (in + out) * passes;
        break;
      }
      case Op::kLinear:
        param_tensors += l.linear().bias ? 2 : 1;
        kernels += passes;
        tile_flops += 2.0 * padded(l.linear().in_features) * padded(l.linear().out_features) * passes;
        break;
      case Op::kBatchNorm2d:
        param_tensors += 2;
        kernels += 2;
        mem_bytes += in * 7;  // forward: read twice (statistics), write; backward: 4 passes
        break;
      case Op::kRelu:
      case Op::kRelu6:
        kernels += 2;
        mem_bytes += in * 5;
        break;
      case Op::kMaxPool2d:
      case Op::kAvgPool2d:
      case Op::kAdaptiveAvgPool2d:
        kernels += 2;
        mem_bytes += in * 2 + out * 3;
        break;
      case Op::kAdd:
        kernels += 1;
        mem_bytes += out * 3;
        break;
      case Op::kConcat:
        kernels += 2;
        mem_bytes += out * 4;
        break;
      case Op::kDropout:
        kernels += 2;
        mem_bytes += in * 4;
        break;
      case Op::kFlatten:
        break;
    }
  }
  CostTerms t;
  // The optimizer reads and writes each parameter, its gradient and momentum: fixed bytes and
  // a few kernels per parameter tensor, as is zero_grad.
  const double optimizer_bytes = static_cast<double>(net.params) * kFloat * 8;
  t.fixed = {1.0, kernels + 5 * param_tensors, 0, 0, 0, optimizer_bytes};
  t.per_sample = {0, 0, tile_flops, dw_bytes, conv_bytes, mem_bytes};
  return t;
}

}  // namespace p4s::fit
