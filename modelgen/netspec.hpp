// NetSpec v1: a CNN as a list of layers in topological order (cli/README.md, "NetSpec v1
// in short"; modelgen/README.md).
// Plain data: reading, writing and checking live in netspec_io.hpp and shapes.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace p4s::modelgen {

inline constexpr int kNetSpecVersion = 1;
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
};

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

struct ActivationAttrs {  // relu, relu6
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

struct DropoutAttrs {
  double p = 0.5;
  bool operator==(const DropoutAttrs&) const;
};

// add, concat and flatten have no attributes.
using LayerAttrs = std::variant<std::monostate, Conv2dAttrs, BatchNorm2dAttrs, LinearAttrs,
                                ActivationAttrs, Pool2dAttrs, AdaptivePool2dAttrs, DropoutAttrs>;

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
  const DropoutAttrs& dropout() const;
  Conv2dAttrs& conv();
  BatchNorm2dAttrs& batchnorm();
  LinearAttrs& linear();

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

  // Index of the layer with that name, or -1.
  int find_layer(std::string_view layer_name) const;
  bool operator==(const NetSpec&) const;
};

}  // namespace p4s::modelgen
