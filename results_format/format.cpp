#include "results_format/format.hpp"

namespace p4s::results {

const char* target_name(Target t) {
  switch (t) {
    case Target::kLatencyMs: return "latency_ms";
    case Target::kMemAlloc: return "mem_alloc";
    case Target::kMemReserved: return "mem_reserved";
    case Target::kMemUsed: return "mem_used";
  }
  return "?";
}

std::optional<Target> target_from_name(const std::string& name) {
  for (Target t : kAllTargets)
    if (name == target_name(t)) return t;
  return std::nullopt;
}

std::string net_case_family(std::string_view net) { return std::string(kNetCasePrefix) + "/" + std::string(net); }

std::string net_case_name(std::string_view net, int64_t batch) {
  return net_case_family(net) + "/" + kBatchArg + ":" + std::to_string(batch);
}

bool is_activation_kind(LayerKind kind) {
  switch (kind) {
    case LayerKind::kSiLU:
    case LayerKind::kHardswish:
    case LayerKind::kHardsigmoid:
    case LayerKind::kSigmoid:
    case LayerKind::kGELU: return true;
    default: return false;
  }
}

std::string_view layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::kConv2d: return "Conv2d";
    case LayerKind::kLinear: return "Linear";
    case LayerKind::kBatchNorm2d: return "BatchNorm2d";
    case LayerKind::kSiLU: return "SiLU";
    case LayerKind::kHardswish: return "Hardswish";
    case LayerKind::kHardsigmoid: return "Hardsigmoid";
    case LayerKind::kSigmoid: return "Sigmoid";
    case LayerKind::kGELU: return "GELU";
    case LayerKind::kLayerNorm2d: return "LayerNorm2d";
    case LayerKind::kChannelShuffle: return "ChannelShuffle";
    case LayerKind::kSqueezeExcitation: return "SqueezeExcitation";
  }
  return "?";
}

std::optional<LayerKind> layer_kind_from_name(std::string_view name) {
  for (LayerKind k : kLayerKinds)
    if (layer_kind_name(k) == name) return k;
  return std::nullopt;
}

const std::vector<std::string>& layer_arg_names(LayerKind kind) {
  static const std::vector<std::string> conv{"cin", "cout", "k", "s", "g", "hw", kBatchArg};
  static const std::vector<std::string> linear{"in", "out", kBatchArg};
  static const std::vector<std::string> c_hw{"c", "hw", kBatchArg};
  static const std::vector<std::string> shuffle{"c", "g", "hw", kBatchArg};
  static const std::vector<std::string> se{"c", "r", "hw", kBatchArg};
  switch (kind) {
    case LayerKind::kConv2d: return conv;
    case LayerKind::kLinear: return linear;
    case LayerKind::kChannelShuffle: return shuffle;
    case LayerKind::kSqueezeExcitation: return se;
    default: return c_hw;  // batch norm, the activations, layer norm
  }
}

std::string layer_case_name(LayerKind kind, const std::vector<int64_t>& args) {
  const std::vector<std::string>& names = layer_arg_names(kind);
  std::string name(layer_kind_name(kind));
  for (size_t i = 0; i < args.size() && i < names.size(); ++i)
    name += "/" + names[i] + ":" + std::to_string(args[i]);
  return name;
}

bool operator==(const Conv2dShape& a, const Conv2dShape& b) {
  return a.cin == b.cin && a.cout == b.cout && a.k == b.k && a.s == b.s && a.g == b.g && a.hw == b.hw;
}
bool operator==(const LinearShape& a, const LinearShape& b) { return a.in == b.in && a.out == b.out; }
bool operator==(const BatchNorm2dShape& a, const BatchNorm2dShape& b) { return a.c == b.c && a.hw == b.hw; }
bool operator==(const ActivationShape& a, const ActivationShape& b) {
  return a.kind == b.kind && a.c == b.c && a.hw == b.hw;
}
bool operator==(const LayerNorm2dShape& a, const LayerNorm2dShape& b) { return a.c == b.c && a.hw == b.hw; }
bool operator==(const ChannelShuffleShape& a, const ChannelShuffleShape& b) {
  return a.c == b.c && a.g == b.g && a.hw == b.hw;
}
bool operator==(const SqueezeExcitationShape& a, const SqueezeExcitationShape& b) {
  return a.c == b.c && a.r == b.r && a.hw == b.hw;
}

LayerKind kind_of(const CaseShape& shape) {
  struct Kind {
    LayerKind operator()(const Conv2dShape&) const { return LayerKind::kConv2d; }
    LayerKind operator()(const LinearShape&) const { return LayerKind::kLinear; }
    LayerKind operator()(const BatchNorm2dShape&) const { return LayerKind::kBatchNorm2d; }
    LayerKind operator()(const ActivationShape& s) const { return s.kind; }
    LayerKind operator()(const LayerNorm2dShape&) const { return LayerKind::kLayerNorm2d; }
    LayerKind operator()(const ChannelShuffleShape&) const { return LayerKind::kChannelShuffle; }
    LayerKind operator()(const SqueezeExcitationShape&) const { return LayerKind::kSqueezeExcitation; }
  };
  return std::visit(Kind{}, shape);
}

std::vector<int64_t> case_args(const Conv2dShape& s, int64_t batch) {
  return {s.cin, s.cout, s.k, s.s, s.g, s.hw, batch};
}
std::vector<int64_t> case_args(const LinearShape& s, int64_t batch) { return {s.in, s.out, batch}; }
std::vector<int64_t> case_args(const BatchNorm2dShape& s, int64_t batch) { return {s.c, s.hw, batch}; }
std::vector<int64_t> case_args(const ActivationShape& s, int64_t batch) { return {s.c, s.hw, batch}; }
std::vector<int64_t> case_args(const LayerNorm2dShape& s, int64_t batch) { return {s.c, s.hw, batch}; }
std::vector<int64_t> case_args(const ChannelShuffleShape& s, int64_t batch) { return {s.c, s.g, s.hw, batch}; }
std::vector<int64_t> case_args(const SqueezeExcitationShape& s, int64_t batch) { return {s.c, s.r, s.hw, batch}; }
std::vector<int64_t> case_args(const CaseShape& s, int64_t batch) {
  return std::visit([batch](const auto& shape) { return case_args(shape, batch); }, s);
}

std::optional<LayerCase> layer_case(std::string_view kind, const std::map<std::string, int64_t>& args) {
  const std::optional<LayerKind> k = layer_kind_from_name(kind);
  if (!k) return std::nullopt;
  std::vector<int64_t> v;
  for (const std::string& name : layer_arg_names(*k)) {
    auto it = args.find(name);
    if (it == args.end() || it->second <= 0) return std::nullopt;
    v.push_back(it->second);
  }
  LayerCase c;
  c.batch = v.back();
  switch (*k) {
    case LayerKind::kConv2d: c.shape = Conv2dShape{v[0], v[1], v[2], v[3], v[4], v[5]}; break;
    case LayerKind::kLinear: c.shape = LinearShape{v[0], v[1]}; break;
    case LayerKind::kBatchNorm2d: c.shape = BatchNorm2dShape{v[0], v[1]}; break;
    case LayerKind::kSiLU:
    case LayerKind::kHardswish:
    case LayerKind::kHardsigmoid:
    case LayerKind::kSigmoid:
    case LayerKind::kGELU: c.shape = ActivationShape{*k, v[0], v[1]}; break;
    case LayerKind::kLayerNorm2d: c.shape = LayerNorm2dShape{v[0], v[1]}; break;
    case LayerKind::kChannelShuffle: c.shape = ChannelShuffleShape{v[0], v[1], v[2]}; break;
    case LayerKind::kSqueezeExcitation: c.shape = SqueezeExcitationShape{v[0], v[1], v[2]}; break;
  }
  return c;
}

}  // namespace p4s::results
