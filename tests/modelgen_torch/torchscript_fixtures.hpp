// TorchScript modules made by the tests themselves with LibTorch's C++ API, to be saved and
// imported back: a NetSpec network traced (torch::jit::tracer, as torch.jit.trace records a
// forward), and a NetSpec network scripted (TorchScript source compiled by Module::define, one
// submodule per layer, as torch.jit.script compiles an nn.Module).
#pragma once

#include <ATen/ops/randn.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>

#include <cstdint>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/torchscript_import.hpp"

namespace p4s::modelgen_torch::testing_torchscript {

// A module of its own class (each in its own compilation unit) with PyTorch's `training` flag.
inline torch::jit::Module new_module(const std::string& class_name) {
  torch::jit::Module m(c10::QualifiedName("__torch__." + class_name));
  m.register_attribute("training", c10::BoolType::get(), true);
  return m;
}

// Whether the builder's forward of the op reads the batch size (channel_shuffle's views,
// drop_path's noise): LibTorch's C++ tracer records that size as a constant, where Python's
// records aten::size.
inline bool reads_batch_size(modelgen::Op op) {
  return op == modelgen::Op::kChannelShuffle || op == modelgen::Op::kDropPath;
}

// A layer's name as a TorchScript module's: no '.' (LibTorch refuses it) and no '-' (which
// the code LibTorch saves for a C++-built module cannot read back; RegNet's names have one).
inline std::string module_name(std::string layer_name) {
  for (char& c : layer_name)
    if (c == '.' || c == '-') c = '_';
  return layer_name;
}

// The network of `spec` built by modelgen_torch, its forward traced in training mode at batch
// 2 (at the import's batch where an op's forward reads the batch size, which the trace then
// holds as a constant), as a module whose submodules (one per layer with parameters, named as
// NetImpl names its children) hold the very tensors the trace used, so that the graph reads
// them as attributes.
inline torch::jit::Module trace_network(const modelgen::NetSpec& spec) {
  Net net(spec);
  net->train();
  torch::jit::Module top = new_module("Traced");
  for (const auto& child : net->named_children()) {
    const std::string name = module_name(child.key());
    torch::jit::Module sub = new_module("Traced_" + name);
    for (const auto& p : child.value()->named_parameters(false)) sub.register_parameter(p.key(), p.value(), false);
    for (const auto& b : child.value()->named_buffers(false)) sub.register_buffer(b.key(), b.value());
    top.register_module(name, sub);
  }
  int64_t batch = 2;
  for (const modelgen::Layer& l : spec.layers)
    if (reads_batch_size(l.op)) batch = kImportBatch;
  const at::Tensor x = at::randn({batch, spec.input.channels, spec.input.height, spec.input.width});
  auto traced = torch::jit::tracer::trace(
      {c10::IValue(x)},
      [&net](torch::jit::Stack in) -> torch::jit::Stack { return {c10::IValue(net->forward(in[0].toTensor()))}; },
      [](const at::Tensor&) { return std::string(); }, /*strict=*/true, /*force_outplace=*/false, &top);
  auto fn = top._ivalue()->compilation_unit()->create_function(c10::QualifiedName(*top.type()->name(), "forward"),
                                                               traced.first->graph);
  top.type()->addMethod(fn);
  return top;
}

inline std::string ints(const modelgen::Hw& v) {
  return "[" + std::to_string(v.h) + ", " + std::to_string(v.w) + "]";
}
// A double as TorchScript source that reads back as the same double.
inline std::string number(double v) {
  std::ostringstream o;
  o << std::setprecision(std::numeric_limits<double>::max_digits10) << v;
  std::string s = o.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

// The network of `spec` as a scripted module: one leaf submodule per layer, named after it,
// whose forward calls the op the way torch.nn's and torchvision's modules do (conv2d,
// batch_norm with its input check and num_batches_tracked, linear, relu(_), hardtanh(_),
// silu(_), hardswish(_), hardsigmoid(_), sigmoid, gelu, pools, dropout, ConvNeXt's layer scale
// and LayerNorm2d, ShuffleNetV2's channel_shuffle, stochastic_depth's noise, and add, cat,
// mul, slices and flatten as modules too), and a root forward that calls them in order.
inline torch::jit::Module script_network(const modelgen::NetSpec& spec) {
  using modelgen::Op;
  modelgen::infer_shapes(spec);  // valid, so that every attribute below makes sense
  torch::jit::Module top = new_module("Scripted");
  std::ostringstream forward;
  forward << "def forward(self, x):\n";
  auto var = [&spec](const std::string& name) {
    return name == modelgen::kInputName ? std::string("x") : "v" + std::to_string(spec.find_layer(name));
  };
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const modelgen::Layer& l = spec.layers[i];
    const std::string name = module_name(l.name);
    torch::jit::Module m = new_module("Scripted_" + name);
    std::string body;
    switch (l.op) {
      case Op::kConv2d: {
        const modelgen::Conv2dAttrs& a = l.conv();
        m.register_parameter("weight", at::randn({a.out_channels, a.in_channels / a.groups, a.kernel.h, a.kernel.w}),
                             false);
        if (a.bias)
          m.register_parameter("bias", at::randn({a.out_channels}), false);
        else
          m.register_attribute("bias", c10::OptionalType::create(c10::TensorType::get()), c10::IValue());
        body = "    return torch.conv2d(x, self.weight, self.bias, " + ints(a.stride) + ", " + ints(a.padding) + ", " +
               ints(a.dilation) + ", " + std::to_string(a.groups) + ")\n";
        break;
      }
      case Op::kBatchNorm2d: {
        const int64_t c = l.batchnorm().features;
        m.register_parameter("weight", at::ones({c}), false);
        m.register_parameter("bias", at::zeros({c}), false);
        m.register_buffer("running_mean", at::zeros({c}));
        m.register_buffer("running_var", at::ones({c}));
        m.register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
        m.define(
            "def _check_input_dim(self, x):\n"
            "    assert x.dim() == 4, \"expected 4D input\"\n");
        body =
            "    self._check_input_dim(x)\n"
            "    if self.training:\n"
            "        self.num_batches_tracked.add_(1)\n"
            "    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, "
            "self.training, 0.1, 1e-05, False)\n";
        break;
      }
      case Op::kLinear: {
        const modelgen::LinearAttrs& a = l.linear();
        m.register_parameter("weight", at::randn({a.out_features, a.in_features}), false);
        if (a.bias)
          m.register_parameter("bias", at::randn({a.out_features}), false);
        else
          m.register_attribute("bias", c10::OptionalType::create(c10::TensorType::get()), c10::IValue());
        body = "    return torch.linear(x, self.weight, self.bias)\n";
        break;
      }
      case Op::kRelu:
        body = l.activation().inplace ? "    return torch.relu_(x)\n" : "    return torch.relu(x)\n";
        break;
      case Op::kRelu6:
        body = l.activation().inplace ? "    return torch.hardtanh_(x, 0.0, 6.0)\n"
                                      : "    return torch.hardtanh(x, 0.0, 6.0)\n";
        break;
      case Op::kMaxPool2d: {
        const modelgen::Pool2dAttrs& a = l.pool();
        body = "    return torch.max_pool2d(x, " + ints(a.kernel) + ", " + ints(a.stride) + ", " + ints(a.padding) +
               ", [1, 1], " + (a.ceil_mode ? "True" : "False") + ")\n";
        break;
      }
      case Op::kAvgPool2d: {
        const modelgen::Pool2dAttrs& a = l.pool();
        body = "    return torch.avg_pool2d(x, " + ints(a.kernel) + ", " + ints(a.stride) + ", " + ints(a.padding) +
               ", " + (a.ceil_mode ? "True" : "False") + ", True, None)\n";
        break;
      }
      case Op::kAdaptiveAvgPool2d:
        body = "    return torch.adaptive_avg_pool2d(x, " + ints(l.adaptive_pool().output_size) + ")\n";
        break;
      case Op::kDropout: {
        std::ostringstream p;
        p << l.dropout().p;
        body = "    return torch.dropout(x, " + p.str() + ", self.training)\n";
        break;
      }
      case Op::kFlatten:
        body = "    return x.view(x.size(0), -1)\n";
        break;
      case Op::kSilu:
        body = l.activation().inplace ? "    return torch.silu_(x)\n" : "    return torch.silu(x)\n";
        break;
      case Op::kHardswish:
        body = l.activation().inplace ? "    return torch.hardswish_(x)\n" : "    return torch.hardswish(x)\n";
        break;
      case Op::kHardsigmoid:
        body = l.activation().inplace ? "    return torch.hardsigmoid_(x)\n" : "    return torch.hardsigmoid(x)\n";
        break;
      case Op::kSigmoid:
        body = "    return torch.sigmoid(x)\n";
        break;
      case Op::kGelu:
        body = "    return torch.gelu(x)\n";
        break;
      case Op::kScale:  // ConvNeXt's layer scale
        m.register_parameter("weight", at::randn({l.channel().channels, 1, 1}), false);
        body = "    return self.weight * x\n";
        break;
      case Op::kLayerNorm2d: {  // torchvision's LayerNorm2d
        const modelgen::ChannelAttrs& a = l.channel();
        m.register_parameter("weight", at::ones({a.channels}), false);
        m.register_parameter("bias", at::zeros({a.channels}), false);
        body = "    x = x.permute(0, 2, 3, 1)\n    x = torch.layer_norm(x, [" + std::to_string(a.channels) +
               "], self.weight, self.bias, " + number(a.eps) + ")\n    return x.permute(0, 3, 1, 2)\n";
        break;
      }
      case Op::kChannelShuffle:  // torchvision's shufflenetv2.channel_shuffle
        body = "    batchsize, num_channels, height, width = x.size()\n"
               "    channels_per_group = num_channels // " + std::to_string(l.shuffle().groups) + "\n"
               "    x = x.view(batchsize, " + std::to_string(l.shuffle().groups) +
               ", channels_per_group, height, width)\n"
               "    x = torch.transpose(x, 1, 2).contiguous()\n"
               "    return x.view(batchsize, num_channels, height, width)\n";
        break;
      case Op::kSlice:
        body = "    return x[:, " + std::to_string(l.slice().start) + ":" + std::to_string(l.slice().end) + "]\n";
        break;
      case Op::kDropPath:  // torchvision's stochastic_depth(mode="row")
        body = "    p = " + number(l.dropout().p) + "\n"
               "    if not self.training or p == 0.0:\n"
               "        return x\n"
               "    survival_rate = 1.0 - p\n"
               "    size = [x.shape[0]] + [1] * (x.ndim - 1)\n"
               "    noise = torch.empty(size, dtype=x.dtype, device=x.device)\n"
               "    noise = noise.bernoulli_(survival_rate)\n"
               "    if survival_rate > 0.0:\n"
               "        noise.div_(survival_rate)\n"
               "    return x * noise\n";
        break;
      case Op::kIdentity:  // nn.Identity
        body = "    return x\n";
        break;
      case Op::kAdd:
      case Op::kMul:
      case Op::kConcat:
        break;
    }
    if (l.op == Op::kAdd)
      m.define("def forward(self, a, b):\n    return torch.add(a, b)\n");
    else if (l.op == Op::kMul)
      m.define("def forward(self, a, b):\n    return a * b\n");
    else if (l.op == Op::kConcat)
      m.define("def forward(self, xs: List[Tensor]):\n    return torch.cat(xs, 1)\n");
    else
      m.define("def forward(self, x):\n" + body);
    top.register_module(name, m);

    std::string args;
    for (const std::string& in : l.inputs) args += (args.empty() ? "" : ", ") + var(in);
    if (l.op == Op::kConcat) args = "[" + args + "]";
    forward << "    " << var(l.name) << " = self." << name << ".forward(" << args << ")\n";
  }
  forward << "    return " << var(spec.output) << "\n";
  top.define(forward.str());
  return top;
}

}  // namespace p4s::modelgen_torch::testing_torchscript
