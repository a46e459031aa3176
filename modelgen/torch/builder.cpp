#include "modelgen/torch/builder.hpp"

#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/hardtanh.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/relu.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

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
