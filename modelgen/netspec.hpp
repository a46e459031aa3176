// NetSpec 1.1: a CNN as a list of layers in topological order (modelgen/NETSPEC.md). Version
// 1.1 adds ops to v1 and changes nothing of v1's: a file that uses none of them is v1.
// Plain data: reading, writing and checking live in netspec_io.hpp and shapes.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace p4s::modelgen {

inline constexpr int kNetSpecVersion = 1;  // major: files of 1 and 1.1 both say 1 here
inline constexpr int kNetSpecMinorVersion = 1;  // the newest minor version this code knows
// The name by which a layer refers to the network's input.
inline constexpr std::string_view kInputName = "input";

enum class Op {
  kConv2d,
  kBatchNorm2d,
  kLinear,
  kRelu,
  kRelu6,
  kMaxPool2d,
  kAvgPool2d,
  kAdaptiveAvgPool2d,
  kAdd,
  kConcat,
  kFlatten,
  kDropout,
  // NetSpec 1.1
  kSilu,
  kHardswish,
  kHardsigmoid,
  kSigmoid,
  kGelu,
  kMul,
  kScale,
  kLayerNorm2d,
  kChannelShuffle,
  kSlice,
  kDropPath,
  kIdentity,
};

// The NetSpec minor version that introduced `op` (0: v1, 1: 1.1).
int op_minor_version(Op op);
// Element-wise activations (relu, relu6, silu, hardswish, hardsigmoid, sigmoid, gelu): one
// input, same shape out, ActivationAttrs.
bool is_activation(Op op);
// Whether PyTorch has an in-place form of the activation (gelu and sigmoid have none).
bool has_inplace_form(Op op);

// The op's name as written in NetSpec files ("conv2d", ...).
std::string_view op_name(Op op);
// The op with that NetSpec name, or nullopt.
std::optional<Op> op_from_name(std::string_view name);

// A (height, width) pair: kernel, stride, padding, dilation, output size.
struct Hw {
  int64_t h = 0;
  int64_t w = 0;
  friend bool operator==(const Hw& a, const Hw& b) { return a.h == b.h && a.w == b.w; }
  friend bool operator!=(const Hw& a, const Hw& b) { return !(a == b); }
};

struct Conv2dAttrs {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  Hw kernel;
  Hw stride{1, 1};
  Hw padding{0, 0};
  Hw dilation{1, 1};
  int64_t groups = 1;  // groups == in_channels (and out a multiple) is depthwise
  bool bias = true;
  bool operator==(const Conv2dAttrs&) const;
};

struct BatchNorm2dAttrs {  // affine, running statistics tracked
  int64_t features = 0;
  bool operator==(const BatchNorm2dAttrs&) const;
};

struct LinearAttrs {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  bool operator==(const LinearAttrs&) const;
};

struct ActivationAttrs {  // relu, relu6, silu, hardswish, hardsigmoid; sigmoid and gelu: false
  bool inplace = false;
  bool operator==(const ActivationAttrs&) const;
};

struct Pool2dAttrs {  // maxpool2d, avgpool2d; stride defaults to the kernel
  Hw kernel;
  Hw stride;
  Hw padding{0, 0};
  bool ceil_mode = false;
  bool operator==(const Pool2dAttrs&) const;
};

struct AdaptivePool2dAttrs {
  Hw output_size;
  bool operator==(const AdaptivePool2dAttrs&) const;
};

struct DropoutAttrs {  // dropout; drop_path (stochastic depth: a whole sample dropped)
  double p = 0.5;
  bool operator==(const DropoutAttrs&) const;
};

// scale: a learned per-channel factor (ConvNeXt's layer scale), `channels` parameters.
// layernorm2d: layer norm over the channels at each position, affine (`features` weights and
// biases), as ConvNeXt's LayerNorm2d.
struct ChannelAttrs {
  int64_t channels = 0;
  double eps = 1e-5;  // layernorm2d only
  bool operator==(const ChannelAttrs&) const;
};

struct ChannelShuffleAttrs {
  int64_t groups = 0;
  bool operator==(const ChannelShuffleAttrs&) const;
};

struct SliceAttrs {  // channels [start, end) of the input: a view
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const SliceAttrs&) const;
};

// add, concat, flatten, mul and identity have no attributes.
using LayerAttrs = std::variant<std::monostate, Conv2dAttrs, BatchNorm2dAttrs, LinearAttrs,
                                ActivationAttrs, Pool2dAttrs, AdaptivePool2dAttrs, DropoutAttrs,
                                ChannelAttrs, ChannelShuffleAttrs, SliceAttrs>;

struct Layer {
  std::string name;
  Op op = Op::kRelu;
  std::vector<std::string> inputs;  // earlier layers' names or kInputName
  LayerAttrs attrs;                 // the alternative that belongs to `op`

  // Typed access; precondition: `op` is of that kind (checked, throws std::logic_error).
  const Conv2dAttrs& conv() const;
  const BatchNorm2dAttrs& batchnorm() const;
  const LinearAttrs& linear() const;
  const ActivationAttrs& activation() const;
  const Pool2dAttrs& pool() const;
  const AdaptivePool2dAttrs& adaptive_pool() const;
  const DropoutAttrs& dropout() const;  // dropout and drop_path
  const ChannelAttrs& channel() const;  // scale and layernorm2d
  const ChannelShuffleAttrs& shuffle() const;
  const SliceAttrs& slice() const;
  Conv2dAttrs& conv();
  BatchNorm2dAttrs& batchnorm();
  LinearAttrs& linear();
  ChannelAttrs& channel();

  bool operator==(const Layer&) const;
};

// The alternative of LayerAttrs that an op carries, default-initialised.
LayerAttrs default_attrs(Op op);

struct InputSpec {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  bool operator==(const InputSpec&) const;
};

struct NetSpec {
  std::string name;
  InputSpec input;
  int64_t classes = 0;
  std::vector<Layer> layers;
  std::string output;  // the layer whose output feeds the loss

  // The minor version of the format its ops need (0: v1, 1: 1.1).
  int minor_version() const;
  // Index of the layer with that name, or -1.
  int find_layer(std::string_view layer_name) const;
  bool operator==(const NetSpec&) const;
};

}  // namespace p4s::modelgen
