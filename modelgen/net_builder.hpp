// Writing a NetSpec layer by layer, the way a PyTorch module's forward reads: every call adds
// one layer fed by earlier tensors and returns the new tensor (its layer name and per-sample
// shape), so that channel counts and flattened sizes follow without being written twice.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {

// A tensor while a network is being written: the layer that makes it and its per-sample shape.
struct Tensor {
  std::string layer;  // kInputName for the network input
  TensorShape shape;
};

// Windows (kernel, stride, padding) are square in every built-in network, so they are given as
// one integer each. Preconditions are checked only by infer_shapes() in finish().
class NetBuilder {
 public:
  NetBuilder(std::string net_name, InputSpec input, int64_t classes);

  const Tensor& input() const { return input_; }

  Tensor conv2d(const std::string& name, const Tensor& x, int64_t out_channels, int64_t kernel,
                int64_t stride = 1, int64_t padding = 0, int64_t groups = 1, bool bias = false);
  Tensor batchnorm2d(const std::string& name, const Tensor& x);
  Tensor relu(const std::string& name, const Tensor& x, bool inplace = true);
  Tensor relu6(const std::string& name, const Tensor& x, bool inplace = true);
  Tensor maxpool2d(const std::string& name, const Tensor& x, int64_t kernel, int64_t stride,
                   int64_t padding = 0, bool ceil_mode = false);
  Tensor avgpool2d(const std::string& name, const Tensor& x, int64_t kernel, int64_t stride,
                   int64_t padding = 0, bool ceil_mode = false);
  Tensor adaptive_avgpool2d(const std::string& name, const Tensor& x, int64_t out_h, int64_t out_w);
  Tensor add(const std::string& name, const Tensor& a, const Tensor& b);
  Tensor concat(const std::string& name, const std::vector<Tensor>& parts);
  Tensor flatten(const std::string& name, const Tensor& x);
  Tensor dropout(const std::string& name, const Tensor& x, double p);
  Tensor linear(const std::string& name, const Tensor& x, int64_t out_features, bool bias = true);
  // NetSpec 1.1. `activation` is one of relu, relu6, silu, hardswish, hardsigmoid, sigmoid,
  // gelu (inplace only where PyTorch has the form).
  Tensor activation(Op op, const std::string& name, const Tensor& x, bool inplace);
  Tensor mul(const std::string& name, const Tensor& a, const Tensor& b);  // b may be [C, 1, 1]
  Tensor scale(const std::string& name, const Tensor& x);
  Tensor layernorm2d(const std::string& name, const Tensor& x, double eps);
  Tensor channel_shuffle(const std::string& name, const Tensor& x, int64_t groups);
  Tensor slice(const std::string& name, const Tensor& x, int64_t start, int64_t end);
  Tensor drop_path(const std::string& name, const Tensor& x, double p);
  Tensor identity(const std::string& name, const Tensor& x);

  // The finished network with `output` as its output layer, validated by infer_shapes()
  // (throws InputError naming the network when a family is written wrongly).
  NetSpec finish(const Tensor& output) &&;

 private:
  Tensor push(Layer layer, TensorShape out);
  Tensor pool2d(Op op, const std::string& name, const Tensor& x, int64_t kernel, int64_t stride,
                int64_t padding, bool ceil_mode);

  NetSpec spec_;
  Tensor input_;
};

}  // namespace p4s::modelgen
