#include "evaluate/held_out_layers.hpp"

#include <algorithm>

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
      default: break;
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
