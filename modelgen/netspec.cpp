#include "modelgen/netspec.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace p4s::modelgen {
namespace {

constexpr std::array<std::pair<Op, std::string_view>, 24> kOpNames{{
    {Op::kConv2d, "conv2d"},
    {Op::kBatchNorm2d, "batchnorm2d"},
    {Op::kLinear, "linear"},
    {Op::kRelu, "relu"},
    {Op::kRelu6, "relu6"},
    {Op::kMaxPool2d, "maxpool2d"},
    {Op::kAvgPool2d, "avgpool2d"},
    {Op::kAdaptiveAvgPool2d, "adaptive_avgpool2d"},
    {Op::kAdd, "add"},
    {Op::kConcat, "concat"},
    {Op::kFlatten, "flatten"},
    {Op::kDropout, "dropout"},
    {Op::kSilu, "silu"},
    {Op::kHardswish, "hardswish"},
    {Op::kHardsigmoid, "hardsigmoid"},
    {Op::kSigmoid, "sigmoid"},
    {Op::kGelu, "gelu"},
    {Op::kMul, "mul"},
    {Op::kScale, "scale"},
    {Op::kLayerNorm2d, "layernorm2d"},
    {Op::kChannelShuffle, "channel_shuffle"},
    {Op::kSlice, "slice"},
    {Op::kDropPath, "drop_path"},
    {Op::kIdentity, "identity"},
}};

template <typename T, typename V>
T& attrs_as(V& attrs, const std::string& layer, const char* kind) {
  if (auto* a = std::get_if<std::remove_const_t<T>>(&attrs)) return *a;
  throw std::logic_error("layer \"" + layer + "\" has no " + kind + " attributes");
}

}  // namespace

std::string_view op_name(Op op) {
  for (const auto& [o, n] : kOpNames)
    if (o == op) return n;
  return "?";
}

std::optional<Op> op_from_name(std::string_view name) {
  for (const auto& [o, n] : kOpNames)
    if (n == name) return o;
  return std::nullopt;
}

int op_minor_version(Op op) { return static_cast<int>(op) >= static_cast<int>(Op::kSilu) ? 1 : 0; }

bool is_activation(Op op) {
  switch (op) {
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid:
    case Op::kSigmoid:
    case Op::kGelu: return true;
    default: return false;
  }
}

bool has_inplace_form(Op op) { return is_activation(op) && op != Op::kSigmoid && op != Op::kGelu; }

LayerAttrs default_attrs(Op op) {
  switch (op) {
    case Op::kConv2d: return Conv2dAttrs{};
    case Op::kBatchNorm2d: return BatchNorm2dAttrs{};
    case Op::kLinear: return LinearAttrs{};
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid:
    case Op::kSigmoid:
    case Op::kGelu: return ActivationAttrs{};
    case Op::kMaxPool2d:
    case Op::kAvgPool2d: return Pool2dAttrs{};
    case Op::kAdaptiveAvgPool2d: return AdaptivePool2dAttrs{};
    case Op::kDropout:
    case Op::kDropPath: return DropoutAttrs{};
    case Op::kScale:
    case Op::kLayerNorm2d: return ChannelAttrs{};
    case Op::kChannelShuffle: return ChannelShuffleAttrs{};
    case Op::kSlice: return SliceAttrs{};
    case Op::kAdd:
    case Op::kConcat:
    case Op::kFlatten:
    case Op::kMul:
    case Op::kIdentity: return std::monostate{};
  }
  return std::monostate{};
}

const Conv2dAttrs& Layer::conv() const { return attrs_as<const Conv2dAttrs>(attrs, name, "conv2d"); }
const BatchNorm2dAttrs& Layer::batchnorm() const {
  return attrs_as<const BatchNorm2dAttrs>(attrs, name, "batchnorm2d");
}
const LinearAttrs& Layer::linear() const { return attrs_as<const LinearAttrs>(attrs, name, "linear"); }
const ActivationAttrs& Layer::activation() const {
  return attrs_as<const ActivationAttrs>(attrs, name, "activation");
}
const Pool2dAttrs& Layer::pool() const { return attrs_as<const Pool2dAttrs>(attrs, name, "pooling"); }
const AdaptivePool2dAttrs& Layer::adaptive_pool() const {
  return attrs_as<const AdaptivePool2dAttrs>(attrs, name, "adaptive pooling");
}
const DropoutAttrs& Layer::dropout() const {
  return attrs_as<const DropoutAttrs>(attrs, name, "dropout");
}
const ChannelAttrs& Layer::channel() const { return attrs_as<const ChannelAttrs>(attrs, name, "channel"); }
const ChannelShuffleAttrs& Layer::shuffle() const {
  return attrs_as<const ChannelShuffleAttrs>(attrs, name, "channel_shuffle");
}
const SliceAttrs& Layer::slice() const { return attrs_as<const SliceAttrs>(attrs, name, "slice"); }
ChannelAttrs& Layer::channel() { return attrs_as<ChannelAttrs>(attrs, name, "channel"); }
Conv2dAttrs& Layer::conv() { return attrs_as<Conv2dAttrs>(attrs, name, "conv2d"); }
BatchNorm2dAttrs& Layer::batchnorm() { return attrs_as<BatchNorm2dAttrs>(attrs, name, "batchnorm2d"); }
LinearAttrs& Layer::linear() { return attrs_as<LinearAttrs>(attrs, name, "linear"); }

bool Conv2dAttrs::operator==(const Conv2dAttrs& o) const {
  return in_channels == o.in_channels && out_channels == o.out_channels && kernel == o.kernel &&
         stride == o.stride && padding == o.padding && dilation == o.dilation &&
         groups == o.groups && bias == o.bias;
}
bool BatchNorm2dAttrs::operator==(const BatchNorm2dAttrs& o) const { return features == o.features; }
bool LinearAttrs::operator==(const LinearAttrs& o) const {
  return in_features == o.in_features && out_features == o.out_features && bias == o.bias;
}
bool ActivationAttrs::operator==(const ActivationAttrs& o) const { return inplace == o.inplace; }
bool Pool2dAttrs::operator==(const Pool2dAttrs& o) const {
  return kernel == o.kernel && stride == o.stride && padding == o.padding &&
         ceil_mode == o.ceil_mode;
}
bool AdaptivePool2dAttrs::operator==(const AdaptivePool2dAttrs& o) const {
  return output_size == o.output_size;
}
bool DropoutAttrs::operator==(const DropoutAttrs& o) const { return p == o.p; }
bool ChannelAttrs::operator==(const ChannelAttrs& o) const { return channels == o.channels && eps == o.eps; }
bool ChannelShuffleAttrs::operator==(const ChannelShuffleAttrs& o) const { return groups == o.groups; }
bool SliceAttrs::operator==(const SliceAttrs& o) const { return start == o.start && end == o.end; }
bool Layer::operator==(const Layer& o) const {
  return name == o.name && op == o.op && inputs == o.inputs && attrs == o.attrs;
}
bool InputSpec::operator==(const InputSpec& o) const {
  return channels == o.channels && height == o.height && width == o.width;
}
bool NetSpec::operator==(const NetSpec& o) const {
  return name == o.name && input == o.input && classes == o.classes && layers == o.layers &&
         output == o.output;
}

int NetSpec::minor_version() const {
  int v = 0;
  for (const Layer& l : layers) v = std::max(v, op_minor_version(l.op));
  return v;
}

int NetSpec::find_layer(std::string_view layer_name) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == layer_name) return static_cast<int>(i);
  return -1;
}

}  // namespace p4s::modelgen
