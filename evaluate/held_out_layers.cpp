#include "evaluate/held_out_layers.hpp"

#include <algorithm>
#include <iterator>
#include <optional>

namespace p4s::evaluate {
namespace {

// One sample's input of layer `i`: its first producer's output, or the network's input.
const modelgen::TensorShape& input_of(const modelgen::ShapedNet& shapes, size_t i) {
  const int producer = shapes.layers[i].inputs.empty() ? -1 : shapes.layers[i].inputs[0];
  return producer < 0 ? shapes.input : shapes.layers[static_cast<size_t>(producer)].out;
}

bool same(const results::CaseShape& a, const results::CaseShape& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return x == std::get<T>(b);
      },
      a);
}

// The activation case kind of an op, where the bench has one.
std::optional<results::LayerKind> activation_kind(modelgen::Op op) {
  switch (op) {
    case modelgen::Op::kSilu: return results::LayerKind::kSiLU;
    case modelgen::Op::kHardswish: return results::LayerKind::kHardswish;
    case modelgen::Op::kHardsigmoid: return results::LayerKind::kHardsigmoid;
    case modelgen::Op::kSigmoid: return results::LayerKind::kSigmoid;
    case modelgen::Op::kGelu: return results::LayerKind::kGELU;
    default: return std::nullopt;
  }
}

// The squeeze-excitation block ending in mul layer `i`, as the bench's case builds it
// (pool, 1x1 conv with bias, ReLU, 1x1 conv with bias, Hardsigmoid, scale times the input),
// as {c, r, hw}; nullopt for any other product.
std::optional<results::SqueezeExcitationShape> squeeze_excitation_at(const modelgen::ResolvedNet& net, size_t i) {
  const auto& layers = net.shapes.layers;
  const std::vector<int>& ins = layers[i].inputs;
  if (ins.size() != 2 || ins[0] < 0) return std::nullopt;
  // Walks back from the scale through the ops the block has, in reverse order.
  int at = ins[0];
  const modelgen::Op chain[] = {modelgen::Op::kHardsigmoid, modelgen::Op::kConv2d, modelgen::Op::kRelu,
                                modelgen::Op::kConv2d, modelgen::Op::kAdaptiveAvgPool2d};
  int64_t r = 0;
  for (size_t k = 0; k < std::size(chain); ++k) {
    if (at < 0) return std::nullopt;
    const modelgen::Layer& l = net.spec.layers[static_cast<size_t>(at)];
    if (l.op != chain[k] || layers[static_cast<size_t>(at)].inputs.size() != 1) return std::nullopt;
    if (l.op == modelgen::Op::kConv2d) {
      const modelgen::Conv2dAttrs& c = l.conv();
      if (c.kernel != modelgen::Hw{1, 1} || c.stride != modelgen::Hw{1, 1} || c.groups != 1 || !c.bias)
        return std::nullopt;
      if (k == 3) r = c.out_channels;  // fc1
    }
    if (l.op == modelgen::Op::kAdaptiveAvgPool2d && l.adaptive_pool().output_size != modelgen::Hw{1, 1})
      return std::nullopt;
    if (k + 1 < std::size(chain)) at = layers[static_cast<size_t>(at)].inputs[0];
  }
  // The pool reads the tensor that the product scales.
  if (layers[static_cast<size_t>(at)].inputs[0] != ins[1]) return std::nullopt;
  const modelgen::TensorShape& x = input_of(net.shapes, static_cast<size_t>(at));
  if (x.height != x.width) return std::nullopt;
  return results::SqueezeExcitationShape{x.channels, r, x.height};
}

}  // namespace

std::vector<results::CaseShape> layer_case_shapes(const modelgen::ResolvedNet& net) {
  std::vector<results::CaseShape> out;
  for (size_t i = 0; i < net.spec.layers.size(); ++i) {
    const modelgen::Layer& l = net.spec.layers[i];
    const modelgen::TensorShape& in = input_of(net.shapes, i);
    switch (l.op) {
      case modelgen::Op::kConv2d: {
        const modelgen::Conv2dAttrs& c = l.conv();
        if (c.kernel.h == c.kernel.w && c.stride.h == c.stride.w && in.height == in.width)
          out.push_back(results::Conv2dShape{c.in_channels, c.out_channels, c.kernel.h, c.stride.h, c.groups, in.height});
        break;
      }
      case modelgen::Op::kLinear:
        out.push_back(results::LinearShape{l.linear().in_features, l.linear().out_features});
        break;
      case modelgen::Op::kBatchNorm2d:
        if (in.height == in.width) out.push_back(results::BatchNorm2dShape{l.batchnorm().features, in.height});
        break;
      case modelgen::Op::kLayerNorm2d:
        if (in.height == in.width) out.push_back(results::LayerNorm2dShape{l.channel().channels, in.height});
        break;
      case modelgen::Op::kChannelShuffle:
        if (in.height == in.width) out.push_back(results::ChannelShuffleShape{in.channels, l.shuffle().groups, in.height});
        break;
      case modelgen::Op::kMul:
        if (const auto se = squeeze_excitation_at(net, i)) out.push_back(*se);
        break;
      default:
        if (const auto kind = activation_kind(l.op))
          if (in.height == in.width) out.push_back(results::ActivationShape{*kind, in.channels, in.height});
        break;
    }
  }
  return out;
}

std::vector<results::LayerResult> layer_cases_outside(const std::vector<results::LayerResult>& cases,
                                                      const std::vector<const modelgen::ResolvedNet*>& held_out) {
  std::vector<results::CaseShape> shapes;
  for (const modelgen::ResolvedNet* net : held_out)
    for (results::CaseShape& s : layer_case_shapes(*net)) shapes.push_back(std::move(s));
  std::vector<results::LayerResult> out;
  for (const results::LayerResult& c : cases) {
    const std::optional<results::LayerCase> lc = results::layer_case(c.kind, c.args);
    const bool held = lc && std::any_of(shapes.begin(), shapes.end(),
                                        [&](const results::CaseShape& s) { return same(s, lc->shape); });
    if (!held) out.push_back(c);
  }
  return out;
}

}  // namespace p4s::evaluate
