#include "modelgen/torch/builder.hpp"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/hardsigmoid.h>
#include <ATen/ops/hardswish.h>
#include <ATen/ops/hardtanh.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/silu.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/types.h>

#include <set>
#include <utility>

namespace p4s::modelgen_torch {
namespace {

using modelgen::Hw;
using modelgen::Op;

torch::ExpandingArray<2> pair(const Hw& v) { return torch::ExpandingArray<2>({v.h, v.w}); }

// Module names may not contain '.'; layer names are unique, but replacing dots can collide.
std::string module_name(const std::string& layer_name, size_t index, std::set<std::string>& used) {
  std::string name = layer_name;
  for (char& c : name)
    if (c == '.') c = '_';
  if (!used.insert(name).second) {
    name += "_" + std::to_string(index);
    used.insert(name);
  }
  return name;
}

// An element-wise activation, in place on its input when asked (a second handle on the same
// tensor, as PyTorch's inplace=True modules return it).
template <typename OutOfPlace, typename InPlace>
std::function<torch::Tensor(const std::vector<torch::Tensor>&, bool)> activation(bool inplace, OutOfPlace f,
                                                                                 InPlace f_) {
  if (inplace)
    return [f_](const std::vector<torch::Tensor>& in, bool) {
      torch::Tensor x = in[0];
      f_(x);
      return x;
    };
  return [f](const std::vector<torch::Tensor>& in, bool) { return f(in[0]); };
}

// ConvNeXt's layer scale: a learned factor per channel, [C, 1, 1], initialised as ConvNeXt
// does (1e-6), multiplied in front of its input.
class ScaleImpl : public torch::nn::Module {
 public:
  explicit ScaleImpl(int64_t channels)
      : weight_(register_parameter("weight", torch::full({channels, 1, 1}, 1e-6))) {}
  torch::Tensor forward(const torch::Tensor& x) { return weight_ * x; }

 private:
  torch::Tensor weight_;
};

// The identity, whose backward makes the gradient contiguous: layer norm over channels
// computes its input's gradient channels-last, which every op before it would otherwise
// receive in that layout and copy (or take other kernels) in its own way.
struct ContiguousGrad : public torch::autograd::Function<ContiguousGrad> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) { return x; }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::variable_list grads) {
    return {grads[0].contiguous()};
  }
};

// Layer norm over the channels at each position (ConvNeXt's LayerNorm2d: permute to NHWC,
// layer_norm over the last dimension, permute back), its result made contiguous again so
// that the layers after it see NCHW tensors as everywhere else, and its input's gradient too.
class LayerNorm2dImpl : public torch::nn::Module {
 public:
  LayerNorm2dImpl(int64_t channels, double eps)
      : eps_(eps),
        weight_(register_parameter("weight", torch::ones({channels}))),
        bias_(register_parameter("bias", torch::zeros({channels}))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor y =
        at::layer_norm(ContiguousGrad::apply(x).permute({0, 2, 3, 1}), {weight_.size(0)}, weight_, bias_, eps_);
    return y.permute({0, 3, 1, 2}).contiguous();
  }

 private:
  double eps_;
  torch::Tensor weight_;
  torch::Tensor bias_;
};

}  // namespace

LayerRunner::LayerRunner(const modelgen::Layer& layer) : op_(layer.op) {
  switch (layer.op) {
    case Op::kConv2d: {
      const modelgen::Conv2dAttrs& a = layer.conv();
      auto conv = std::make_shared<torch::nn::Conv2dImpl>(
          torch::nn::Conv2dOptions(a.in_channels, a.out_channels, pair(a.kernel))
              .stride(pair(a.stride))
              .padding(pair(a.padding))
              .dilation(pair(a.dilation))
              .groups(a.groups)
              .bias(a.bias));
      module_ = conv;
      run_ = [conv](const std::vector<torch::Tensor>& in, bool) { return conv->forward(in[0]); };
      break;
    }
    case Op::kBatchNorm2d: {
      // PyTorch's defaults: eps 1e-5, momentum 0.1, affine, running statistics tracked.
      auto bn = std::make_shared<torch::nn::BatchNorm2dImpl>(
          torch::nn::BatchNorm2dOptions(layer.batchnorm().features));
      module_ = bn;
      run_ = [bn](const std::vector<torch::Tensor>& in, bool) { return bn->forward(in[0]); };
      break;
    }
    case Op::kLinear: {
      const modelgen::LinearAttrs& a = layer.linear();
      auto linear = std::make_shared<torch::nn::LinearImpl>(
          torch::nn::LinearOptions(a.in_features, a.out_features).bias(a.bias));
      module_ = linear;
      run_ = [linear](const std::vector<torch::Tensor>& in, bool) { return linear->forward(in[0]); };
      break;
    }
    case Op::kRelu:
      if (layer.activation().inplace)
        run_ = [](const std::vector<torch::Tensor>& in, bool) {
          torch::Tensor x = in[0];  // a second handle on the same tensor
          at::relu_(x);
          return x;
        };
      else
        run_ = [](const std::vector<torch::Tensor>& in, bool) { return at::relu(in[0]); };
      break;
    case Op::kRelu6:
      // PyTorch's ReLU6 is hardtanh(0, 6), in place when asked.
      if (layer.activation().inplace)
        run_ = [](const std::vector<torch::Tensor>& in, bool) {
          torch::Tensor x = in[0];
          at::hardtanh_(x, 0, 6);
          return x;
        };
      else
        run_ = [](const std::vector<torch::Tensor>& in, bool) { return at::hardtanh(in[0], 0, 6); };
      break;
    case Op::kSilu:
      run_ = activation(layer.activation().inplace, [](const torch::Tensor& x) { return at::silu(x); },
                        [](torch::Tensor& x) { at::silu_(x); });
      break;
    case Op::kHardswish:
      run_ = activation(layer.activation().inplace, [](const torch::Tensor& x) { return at::hardswish(x); },
                        [](torch::Tensor& x) { at::hardswish_(x); });
      break;
    case Op::kHardsigmoid:
      run_ = activation(layer.activation().inplace, [](const torch::Tensor& x) { return at::hardsigmoid(x); },
                        [](torch::Tensor& x) { at::hardsigmoid_(x); });
      break;
    case Op::kSigmoid:
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return at::sigmoid(in[0]); };
      break;
    case Op::kGelu:
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return at::gelu(in[0]); };
      break;
    case Op::kMul:
      // Broadcasting a [N, C, 1, 1] factor as squeeze-excitation does.
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return in[0].mul(in[1]); };
      break;
    case Op::kScale: {
      auto scale = std::make_shared<ScaleImpl>(layer.channel().channels);
      module_ = scale;
      run_ = [scale](const std::vector<torch::Tensor>& in, bool) { return scale->forward(in[0]); };
      break;
    }
    case Op::kLayerNorm2d: {
      auto norm = std::make_shared<LayerNorm2dImpl>(layer.channel().channels, layer.channel().eps);
      module_ = norm;
      run_ = [norm](const std::vector<torch::Tensor>& in, bool) { return norm->forward(in[0]); };
      break;
    }
    case Op::kChannelShuffle: {
      // ShuffleNetV2's channel_shuffle: view as [N, g, C/g, H, W], swap the two channel
      // dimensions into a contiguous copy, view as [N, C, H, W] again. (reshape: the same
      // view, and a copy first where the input is a slice, which cannot be viewed so.)
      const int64_t g = layer.shuffle().groups;
      run_ = [g](const std::vector<torch::Tensor>& in, bool) {
        const torch::Tensor& x = in[0];
        const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        return x.reshape({n, g, c / g, h, w}).transpose(1, 2).contiguous().view({n, c, h, w});
      };
      break;
    }
    case Op::kSlice: {
      const modelgen::SliceAttrs a = layer.slice();
      run_ = [a](const std::vector<torch::Tensor>& in, bool) { return in[0].narrow(1, a.start, a.end - a.start); };
      break;
    }
    case Op::kDropPath: {
      // torchvision's stochastic_depth(mode="row"): each sample kept with 1 - p, scaled by
      // 1 / (1 - p); nothing in eval mode or with p = 0.
      const double p = layer.dropout().p;
      run_ = [p](const std::vector<torch::Tensor>& in, bool training) {
        const torch::Tensor& x = in[0];
        if (!training || p == 0.0) return x;
        std::vector<int64_t> size(static_cast<size_t>(x.dim()), 1);
        size[0] = x.size(0);
        torch::Tensor noise = torch::empty(size, x.options()).bernoulli_(1.0 - p);
        if (p < 1.0) noise.div_(1.0 - p);
        return x * noise;
      };
      break;
    }
    case Op::kIdentity:
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return in[0]; };
      break;
    case Op::kMaxPool2d: {
      const modelgen::Pool2dAttrs a = layer.pool();
      run_ = [a](const std::vector<torch::Tensor>& in, bool) {
        return at::max_pool2d(in[0], {a.kernel.h, a.kernel.w}, {a.stride.h, a.stride.w},
                              {a.padding.h, a.padding.w}, {1, 1}, a.ceil_mode);
      };
      break;
    }
    case Op::kAvgPool2d: {
      const modelgen::Pool2dAttrs a = layer.pool();
      run_ = [a](const std::vector<torch::Tensor>& in, bool) {
        return at::avg_pool2d(in[0], {a.kernel.h, a.kernel.w}, {a.stride.h, a.stride.w},
                              {a.padding.h, a.padding.w}, a.ceil_mode,
                              /*count_include_pad=*/true, /*divisor_override=*/{});
      };
      break;
    }
    case Op::kAdaptiveAvgPool2d: {
      const Hw o = layer.adaptive_pool().output_size;
      run_ = [o](const std::vector<torch::Tensor>& in, bool) {
        return at::adaptive_avg_pool2d(in[0], {o.h, o.w});
      };
      break;
    }
    case Op::kAdd:
      // Out of place, as torch.add: NetSpec's add has no in-place form.
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return in[0].add(in[1]); };
      break;
    case Op::kConcat:
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return at::cat(in, 1); };
      break;
    case Op::kFlatten:
      run_ = [](const std::vector<torch::Tensor>& in, bool) { return in[0].flatten(1); };
      break;
    case Op::kDropout: {
      const double p = layer.dropout().p;
      run_ = [p](const std::vector<torch::Tensor>& in, bool training) {
        return at::dropout(in[0], p, training);
      };
      break;
    }
  }
}

NetImpl::NetImpl(const modelgen::NetSpec& spec, const std::string& source)
    : spec_(spec), shapes_(modelgen::infer_shapes(spec, source)) {
  const size_t n = spec_.layers.size();
  layers_.reserve(n);
  last_use_.resize(n);
  std::set<std::string> used;
  for (size_t i = 0; i < n; ++i) {
    const modelgen::Layer& layer = spec_.layers[i];
    layers_.emplace_back(layer);
    if (const auto& m = layers_.back().module()) register_module(module_name(layer.name, i, used), m);
    last_use_[i] = i;
    for (int p : shapes_.layers[i].inputs)
      if (p >= 0) last_use_[static_cast<size_t>(p)] = i;
  }
}

std::vector<torch::Tensor> NetImpl::freeze_before(const std::string& first, bool eval_bn, const std::string& source) {
  size_t frozen = 0;
  if (!first.empty()) {
    while (frozen < spec_.layers.size() && spec_.layers[frozen].name != first) ++frozen;
    if (frozen == spec_.layers.size())
      throw InputError(source, "train_from", "\"" + first + "\" names no layer of network \"" + spec_.name + "\"");
  }
  std::vector<torch::Tensor> trainable;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::shared_ptr<torch::nn::Module>& m = layers_[i].module();
    if (!m) continue;
    for (torch::Tensor& p : m->parameters()) {
      if (i < frozen) p.set_requires_grad(false);
      else trainable.push_back(p);
    }
    if (i < frozen && eval_bn && spec_.layers[i].op == Op::kBatchNorm2d) m->eval();
  }
  return trainable;
}

torch::Tensor NetImpl::forward(const torch::Tensor& input) {
  const size_t output = static_cast<size_t>(shapes_.output);
  std::vector<torch::Tensor> outs(layers_.size());
  std::vector<torch::Tensor> ins;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::vector<int>& producers = shapes_.layers[i].inputs;
    ins.clear();
    for (int p : producers) ins.push_back(p < 0 ? input : outs[static_cast<size_t>(p)]);
    outs[i] = layers_[i].run(ins, is_training());
    ins.clear();
    for (int p : producers)
      if (p >= 0 && last_use_[static_cast<size_t>(p)] == i && static_cast<size_t>(p) != output)
        outs[static_cast<size_t>(p)].reset();
    if (last_use_[i] == i && i != output) outs[i].reset();  // nothing consumes it
  }
  return outs[output];
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const torch::Tensor& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace p4s::modelgen_torch
