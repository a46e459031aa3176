#include "modelgen/net_builder.hpp"

#include <utility>

namespace p4s::modelgen {
namespace {

Hw square(int64_t v) { return Hw{v, v}; }

}  // namespace

NetBuilder::NetBuilder(std::string net_name, InputSpec input, int64_t classes) {
  spec_.name = std::move(net_name);
  spec_.input = input;
  spec_.classes = classes;
  input_ = Tensor{std::string(kInputName), TensorShape{input.channels, input.height, input.width, false}};
}

Tensor NetBuilder::push(Layer layer, TensorShape out) {
  Tensor t{layer.name, out};
  spec_.layers.push_back(std::move(layer));
  return t;
}

Tensor NetBuilder::conv2d(const std::string& name, const Tensor& x, int64_t out_channels,
                          int64_t kernel, int64_t stride, int64_t padding, int64_t groups,
                          bool bias) {
  Conv2dAttrs a;
  a.in_channels = x.shape.channels;
  a.out_channels = out_channels;
  a.kernel = square(kernel);
  a.stride = square(stride);
  a.padding = square(padding);
  a.groups = groups;
  a.bias = bias;
  TensorShape out{out_channels,
                  window_output_size(x.shape.height, kernel, stride, padding, 1, false),
                  window_output_size(x.shape.width, kernel, stride, padding, 1, false), false};
  return push(Layer{name, Op::kConv2d, {x.layer}, a}, out);
}

Tensor NetBuilder::batchnorm2d(const std::string& name, const Tensor& x) {
  return push(Layer{name, Op::kBatchNorm2d, {x.layer}, BatchNorm2dAttrs{x.shape.channels}}, x.shape);
}

Tensor NetBuilder::relu(const std::string& name, const Tensor& x, bool inplace) {
  return push(Layer{name, Op::kRelu, {x.layer}, ActivationAttrs{inplace}}, x.shape);
}

Tensor NetBuilder::relu6(const std::string& name, const Tensor& x, bool inplace) {
  return push(Layer{name, Op::kRelu6, {x.layer}, ActivationAttrs{inplace}}, x.shape);
}

Tensor NetBuilder::maxpool2d(const std::string& name, const Tensor& x, int64_t kernel,
                             int64_t stride, int64_t padding, bool ceil_mode) {
  return pool2d(Op::kMaxPool2d, name, x, kernel, stride, padding, ceil_mode);
}

Tensor NetBuilder::avgpool2d(const std::string& name, const Tensor& x, int64_t kernel,
                             int64_t stride, int64_t padding, bool ceil_mode) {
  return pool2d(Op::kAvgPool2d, name, x, kernel, stride, padding, ceil_mode);
}

Tensor NetBuilder::pool2d(Op op, const std::string& name, const Tensor& x, int64_t kernel,
                          int64_t stride, int64_t padding, bool ceil_mode) {
  Pool2dAttrs a;
  a.kernel = square(kernel);
  a.stride = square(stride);
  a.padding = square(padding);
  a.ceil_mode = ceil_mode;
  TensorShape out = x.shape;
  out.height = window_output_size(x.shape.height, kernel, stride, padding, 1, ceil_mode);
  out.width = window_output_size(x.shape.width, kernel, stride, padding, 1, ceil_mode);
  return push(Layer{name, op, {x.layer}, a}, out);
}

Tensor NetBuilder::adaptive_avgpool2d(const std::string& name, const Tensor& x, int64_t out_h,
                                      int64_t out_w) {
  TensorShape out{x.shape.channels, out_h, out_w, false};
  return push(Layer{name, Op::kAdaptiveAvgPool2d, {x.layer}, AdaptivePool2dAttrs{Hw{out_h, out_w}}}, out);
}

Tensor NetBuilder::add(const std::string& name, const Tensor& a, const Tensor& b) {
  return push(Layer{name, Op::kAdd, {a.layer, b.layer}, std::monostate{}}, a.shape);
}

Tensor NetBuilder::concat(const std::string& name, const std::vector<Tensor>& parts) {
  Layer layer{name, Op::kConcat, {}, std::monostate{}};
  TensorShape out = parts.front().shape;
  out.channels = 0;
  for (const Tensor& p : parts) {
    layer.inputs.push_back(p.layer);
    out.channels += p.shape.channels;
  }
  return push(std::move(layer), out);
}

Tensor NetBuilder::flatten(const std::string& name, const Tensor& x) {
  return push(Layer{name, Op::kFlatten, {x.layer}, std::monostate{}},
              TensorShape{x.shape.numel(), 1, 1, true});
}

Tensor NetBuilder::dropout(const std::string& name, const Tensor& x, double p) {
  return push(Layer{name, Op::kDropout, {x.layer}, DropoutAttrs{p}}, x.shape);
}

Tensor NetBuilder::linear(const std::string& name, const Tensor& x, int64_t out_features, bool bias) {
  return push(Layer{name, Op::kLinear, {x.layer}, LinearAttrs{x.shape.numel(), out_features, bias}},
              TensorShape{out_features, 1, 1, true});
}

Tensor NetBuilder::activation(Op op, const std::string& name, const Tensor& x, bool inplace) {
  return push(Layer{name, op, {x.layer}, ActivationAttrs{inplace}}, x.shape);
}

Tensor NetBuilder::mul(const std::string& name, const Tensor& a, const Tensor& b) {
  const TensorShape out = a.shape.height * a.shape.width >= b.shape.height * b.shape.width ? a.shape : b.shape;
  return push(Layer{name, Op::kMul, {a.layer, b.layer}, std::monostate{}}, out);
}

Tensor NetBuilder::scale(const std::string& name, const Tensor& x) {
  return push(Layer{name, Op::kScale, {x.layer}, ChannelAttrs{x.shape.channels, ChannelAttrs{}.eps}}, x.shape);
}

Tensor NetBuilder::layernorm2d(const std::string& name, const Tensor& x, double eps) {
  return push(Layer{name, Op::kLayerNorm2d, {x.layer}, ChannelAttrs{x.shape.channels, eps}}, x.shape);
}

Tensor NetBuilder::channel_shuffle(const std::string& name, const Tensor& x, int64_t groups) {
  return push(Layer{name, Op::kChannelShuffle, {x.layer}, ChannelShuffleAttrs{groups}}, x.shape);
}

Tensor NetBuilder::slice(const std::string& name, const Tensor& x, int64_t start, int64_t end) {
  TensorShape out = x.shape;
  out.channels = end - start;
  return push(Layer{name, Op::kSlice, {x.layer}, SliceAttrs{start, end}}, out);
}

Tensor NetBuilder::drop_path(const std::string& name, const Tensor& x, double p) {
  return push(Layer{name, Op::kDropPath, {x.layer}, DropoutAttrs{p}}, x.shape);
}

Tensor NetBuilder::identity(const std::string& name, const Tensor& x) {
  return push(Layer{name, Op::kIdentity, {x.layer}, std::monostate{}}, x.shape);
}

NetSpec NetBuilder::finish(const Tensor& output) && {
  spec_.output = output.layer;
  infer_shapes(spec_, spec_.name);
  return std::move(spec_);
}

}  // namespace p4s::modelgen
