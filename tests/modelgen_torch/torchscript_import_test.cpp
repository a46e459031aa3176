// TorchScript -> NetSpec: networks traced and scripted here with LibTorch, saved, loaded and
// imported back, compared with the specs they came from (ops, attributes, connections, shapes,
// parameter counts, names), NetSpec 1.1's ops included (squeeze-excitation, a ConvNeXt-like
// block, a ShuffleNet-like unit); torchvision-like modules with blocks, functional calls and
// control flow; and the one error that lists every op outside NetSpec.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/families.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/torchscript_import.hpp"
#include "test_specs.hpp"
#include "torchscript_fixtures.hpp"

namespace p4s::modelgen_torch {
namespace {

using modelgen::NetSpec;
namespace ts = testing_torchscript;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "p4s_import_" + std::to_string(getpid()) + "_" + name;
}

// Saves the module, imports the file, removes it.
NetSpec save_and_import(torch::jit::Module m, const std::string& file, const ImportOptions& options) {
  const std::string path = temp_path(file);
  m.save(path);
  try {
    NetSpec spec = import_torchscript(path, options);
    std::remove(path.c_str());
    return spec;
  } catch (...) {
    std::remove(path.c_str());
    throw;
  }
}

ImportOptions input_of(const NetSpec& spec) {
  ImportOptions o;
  o.input = spec.input;
  return o;
}

// `spec` without the layers that run nothing (identity, drop_path with p = 0, as ConvNeXt's
// first block has): a graph holds no op for them, so no import can give them back.
NetSpec without_no_ops(const NetSpec& spec) {
  NetSpec out = spec;
  out.layers.clear();
  std::map<std::string, std::string> replaced;  // a removed layer -> what it passed on
  auto source = [&](const std::string& name) {
    auto it = replaced.find(name);
    return it == replaced.end() ? name : it->second;
  };
  for (modelgen::Layer l : spec.layers) {
    for (std::string& in : l.inputs) in = source(in);
    const bool no_op = l.op == modelgen::Op::kIdentity || (l.op == modelgen::Op::kDropPath && l.dropout().p == 0.0);
    if (no_op) {
      replaced[l.name] = l.inputs.front();
      continue;
    }
    out.layers.push_back(l);
  }
  out.output = source(spec.output);
  return out;
}

// The same network: input, classes, and layer by layer the op, its attributes and which
// layers feed it; layers with parameters keep their names (modules cannot have '.').
void expect_same_network(const NetSpec& imported, const NetSpec& with_no_ops) {
  const NetSpec original = without_no_ops(with_no_ops);
  EXPECT_EQ(imported.input, original.input);
  EXPECT_EQ(imported.classes, original.classes);
  ASSERT_EQ(imported.layers.size(), original.layers.size());
  for (size_t i = 0; i < original.layers.size(); ++i) {
    const modelgen::Layer& a = imported.layers[i];
    const modelgen::Layer& b = original.layers[i];
    SCOPED_TRACE(original.name + " layer " + b.name);
    EXPECT_EQ(a.op, b.op);
    if (b.op == modelgen::Op::kDropPath && a.op == b.op) {
      // The graph holds 1 - p, from which p comes back to within an ulp or so.
      EXPECT_NEAR(a.dropout().p, b.dropout().p, 1e-15);
    } else {
      EXPECT_TRUE(a.attrs == b.attrs);
    }
    ASSERT_EQ(a.inputs.size(), b.inputs.size());
    for (size_t k = 0; k < a.inputs.size(); ++k)
      EXPECT_EQ(imported.find_layer(a.inputs[k]), original.find_layer(b.inputs[k])) << a.inputs[k];
    if (b.op == modelgen::Op::kConv2d || b.op == modelgen::Op::kBatchNorm2d || b.op == modelgen::Op::kLinear) {
      EXPECT_EQ(a.name, ts::module_name(b.name));
    }
  }
  EXPECT_EQ(imported.find_layer(imported.output), original.find_layer(original.output));
  EXPECT_EQ(modelgen::infer_shapes(imported).params, modelgen::infer_shapes(original).params);
}

// NetSpec 1.1: squeeze-excitation as torchvision's (pool, conv, activation, conv, hardsigmoid,
// mul of [N, C, 1, 1] and [N, C, H, W]), a mul of one shape, and every activation of 1.1, in
// place where PyTorch has the form, on spatial and flat activations.
NetSpec se_net() {
  return modelgen::parse_netspec(R"({
    "netspec": "1.1", "name": "se_net", "classes": 6,
    "input": {"channels": 3, "height": 16, "width": 16},
    "layers": [
      {"name": "stem.conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "stride": 2, "padding": 1, "bias": false},
      {"name": "stem.bn", "op": "batchnorm2d", "inputs": ["stem.conv"], "features": 8},
      {"name": "hswish", "op": "hardswish", "inputs": ["stem.bn"], "inplace": true},
      {"name": "se.pool", "op": "adaptive_avgpool2d", "inputs": ["hswish"], "output_size": 1},
      {"name": "se.fc1", "op": "conv2d", "inputs": ["se.pool"], "in_channels": 8, "out_channels": 4, "kernel": 1},
      {"name": "se.act", "op": "silu", "inputs": ["se.fc1"], "inplace": false},
      {"name": "se.fc2", "op": "conv2d", "inputs": ["se.act"], "in_channels": 4, "out_channels": 8, "kernel": 1},
      {"name": "se.gate", "op": "hardsigmoid", "inputs": ["se.fc2"], "inplace": false},
      {"name": "se.mul", "op": "mul", "inputs": ["se.gate", "hswish"]},
      {"name": "proj", "op": "conv2d", "inputs": ["se.mul"], "in_channels": 8, "out_channels": 8, "kernel": 1},
      {"name": "sig", "op": "sigmoid", "inputs": ["proj"]},
      {"name": "glu", "op": "mul", "inputs": ["se.mul", "sig"]},
      {"name": "silu_", "op": "silu", "inputs": ["glu"], "inplace": true},
      {"name": "hsig_", "op": "hardsigmoid", "inputs": ["silu_"], "inplace": true},
      {"name": "gelu", "op": "gelu", "inputs": ["hsig_"]},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["gelu"], "output_size": 1},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "head.act", "op": "hardswish", "inputs": ["flat"], "inplace": false},
      {"name": "head.drop", "op": "dropout", "inputs": ["head.act"], "p": 0.2},
      {"name": "head.fc", "op": "linear", "inputs": ["head.drop"], "in_features": 8, "out_features": 6}
    ],
    "output": "head.fc"})", "se_net");
}

// NetSpec 1.1: ConvNeXt's stem (conv 4x4 / 4, LayerNorm2d) and block (depthwise 7x7,
// layernorm2d, 1x1 conv, gelu, 1x1 conv, layer scale, stochastic depth, add), its head
// (pool, LayerNorm2d, flatten, linear).
NetSpec convnext_like() {
  return modelgen::parse_netspec(R"({
    "netspec": "1.1", "name": "convnext_like", "classes": 10,
    "input": {"channels": 3, "height": 16, "width": 16},
    "layers": [
      {"name": "stem.conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 4, "stride": 4},
      {"name": "stem.norm", "op": "layernorm2d", "inputs": ["stem.conv"], "channels": 8, "eps": 1e-6},
      {"name": "block.dw", "op": "conv2d", "inputs": ["stem.norm"], "in_channels": 8, "out_channels": 8,
       "kernel": 7, "padding": 3, "groups": 8},
      {"name": "block.norm", "op": "layernorm2d", "inputs": ["block.dw"], "channels": 8, "eps": 1e-6},
      {"name": "block.pw1", "op": "conv2d", "inputs": ["block.norm"], "in_channels": 8, "out_channels": 32,
       "kernel": 1},
      {"name": "block.act", "op": "gelu", "inputs": ["block.pw1"]},
      {"name": "block.pw2", "op": "conv2d", "inputs": ["block.act"], "in_channels": 32, "out_channels": 8,
       "kernel": 1},
      {"name": "block.scale", "op": "scale", "inputs": ["block.pw2"], "channels": 8},
      {"name": "block.drop", "op": "drop_path", "inputs": ["block.scale"], "p": 0.2},
      {"name": "block.add", "op": "add", "inputs": ["block.drop", "stem.norm"]},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["block.add"], "output_size": 1},
      {"name": "head.norm", "op": "layernorm2d", "inputs": ["gap"], "channels": 8},
      {"name": "flat", "op": "flatten", "inputs": ["head.norm"]},
      {"name": "head.fc", "op": "linear", "inputs": ["flat"], "in_features": 8, "out_features": 10}
    ],
    "output": "head.fc"})", "convnext_like");
}

// NetSpec 1.1: ShuffleNetV2's units: one that splits the channels in two slices, transforms
// one and concatenates them, one that downsamples in two branches; each ends in a channel
// shuffle.
NetSpec shufflenet_like() {
  return modelgen::parse_netspec(R"({
    "netspec": "1.1", "name": "shufflenet_like", "classes": 10,
    "input": {"channels": 3, "height": 16, "width": 16},
    "layers": [
      {"name": "conv1", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "bn1", "op": "batchnorm2d", "inputs": ["conv1"], "features": 8},
      {"name": "relu1", "op": "relu", "inputs": ["bn1"], "inplace": true},
      {"name": "u1.x1", "op": "slice", "inputs": ["relu1"], "start": 0, "end": 4},
      {"name": "u1.x2", "op": "slice", "inputs": ["relu1"], "start": 4, "end": 8},
      {"name": "u1.pw", "op": "conv2d", "inputs": ["u1.x2"], "in_channels": 4, "out_channels": 4, "kernel": 1,
       "bias": false},
      {"name": "u1.bn1", "op": "batchnorm2d", "inputs": ["u1.pw"], "features": 4},
      {"name": "u1.relu", "op": "relu", "inputs": ["u1.bn1"], "inplace": true},
      {"name": "u1.dw", "op": "conv2d", "inputs": ["u1.relu"], "in_channels": 4, "out_channels": 4, "kernel": 3,
       "padding": 1, "groups": 4, "bias": false},
      {"name": "u1.bn2", "op": "batchnorm2d", "inputs": ["u1.dw"], "features": 4},
      {"name": "u1.cat", "op": "concat", "inputs": ["u1.x1", "u1.bn2"]},
      {"name": "u1.shuffle", "op": "channel_shuffle", "inputs": ["u1.cat"], "groups": 2},
      {"name": "u2.b1.dw", "op": "conv2d", "inputs": ["u1.shuffle"], "in_channels": 8, "out_channels": 8,
       "kernel": 3, "stride": 2, "padding": 1, "groups": 8, "bias": false},
      {"name": "u2.b1.pw", "op": "conv2d", "inputs": ["u2.b1.dw"], "in_channels": 8, "out_channels": 8,
       "kernel": 1, "bias": false},
      {"name": "u2.b2.pw", "op": "conv2d", "inputs": ["u1.shuffle"], "in_channels": 8, "out_channels": 8,
       "kernel": 1, "bias": false},
      {"name": "u2.b2.dw", "op": "conv2d", "inputs": ["u2.b2.pw"], "in_channels": 8, "out_channels": 8,
       "kernel": 3, "stride": 2, "padding": 1, "groups": 8, "bias": false},
      {"name": "u2.cat", "op": "concat", "inputs": ["u2.b1.pw", "u2.b2.dw"]},
      {"name": "u2.shuffle", "op": "channel_shuffle", "inputs": ["u2.cat"], "groups": 4},
      {"name": "u2.mid", "op": "slice", "inputs": ["u2.shuffle"], "start": 3, "end": 13},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["u2.mid"], "output_size": 1},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 10, "out_features": 10}
    ],
    "output": "fc"})", "shufflenet_like");
}

std::vector<NetSpec> networks() {
  std::vector<NetSpec> specs = {testing_specs::every_op(), testing_specs::tiny(), se_net(), convnext_like(),
                                shufflenet_like()};
  for (const char* name : {"resnet18_cifar10_p50_s1", "resnet50_cifar10_p80_s2", "mobilenetv2_cifar10_p30_s2",
                           "squeezenet1.0_cifar10", "squeezenet1.1_cifar100_p40_s1", "googlenet_cifar10_p70_s1",
                           "alexnet_cifar10_w0.5", "vgg11bn_cifar10_p60_s3", "mnasnet1.0_cifar10_p50_s1"})
    specs.push_back(modelgen::make_builtin_network(name));
  // Every built-in family, at CIFAR size and pruned (70%, or as far as pruning reaches) to
  // keep the test quick; unpruned ShuffleNetV2 and EfficientNet too, for their full widths.
  for (const modelgen::Family& f : modelgen::families()) {
    modelgen::NetworkId id;
    id.family = std::string(f.id);
    id.dataset = modelgen::Dataset::kCifar10;
    id.prune_percent = std::min(70, modelgen::RandomChannelPruner(modelgen::make_builtin_network(id)).highest_level());
    id.seed = 1;
    specs.push_back(modelgen::make_builtin_network(id));
  }
  for (const char* name : {"shufflenetv2x0.5_cifar10", "efficientnetb0_cifar10_w0.5"})
    specs.push_back(modelgen::make_builtin_network(name));
  return specs;
}

TEST(TorchScriptImport, TracedNetworksComeBackAsTheirSpecs) {
  for (const NetSpec& spec : networks()) {
    SCOPED_TRACE(spec.name);
    const NetSpec imported = save_and_import(ts::trace_network(spec), "traced.pt", input_of(spec));
    expect_same_network(imported, spec);
    EXPECT_EQ(imported.name, "p4s_import_" + std::to_string(getpid()) + "_traced");
  }
}

TEST(TorchScriptImport, ScriptedNetworksComeBackAsTheirSpecsNamesIncluded) {
  for (const NetSpec& spec : networks()) {
    SCOPED_TRACE(spec.name);
    ImportOptions o = input_of(spec);
    o.name = spec.name;
    const NetSpec imported = save_and_import(ts::script_network(spec), "scripted.pt", o);
    expect_same_network(imported, spec);
    NetSpec renamed = without_no_ops(spec);  // '.' cannot stand in module names
    for (modelgen::Layer& l : renamed.layers) {
      l.name = ts::module_name(l.name);
      for (std::string& in : l.inputs) in = ts::module_name(in);
    }
    renamed.output = ts::module_name(renamed.output);
    // drop_path's p comes back to within an ulp (expect_same_network checked it).
    NetSpec same_p = imported;
    for (size_t i = 0; i < same_p.layers.size() && i < renamed.layers.size(); ++i)
      if (same_p.layers[i].op == modelgen::Op::kDropPath) same_p.layers[i].attrs = renamed.layers[i].attrs;
    EXPECT_EQ(modelgen::netspec_to_json(same_p), modelgen::netspec_to_json(renamed));
  }
}

TEST(TorchScriptImport, AnImageNetNetworkAtTheDefaultInputSize) {
  const NetSpec spec = modelgen::make_builtin_network("resnet18_p50_s1");
  expect_same_network(save_and_import(ts::trace_network(spec), "resnet18.pt", ImportOptions{}), spec);
}

// A hand-written module in the style of torchvision: a residual block of submodules with a
// ReLU module used twice and an in-place `out += identity`, functional calls at the root,
// shape arithmetic in a loop, a branch that is not taken, a mean over height and width, and
// linear layers written as addmm and as matmul plus a bias.
torch::jit::Module torchvision_like() {
  auto conv = [](int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t pad, bool bias) {
    torch::jit::Module m = ts::new_module("Conv_" + std::to_string(cin) + "_" + std::to_string(cout) + "_" +
                                          std::to_string(k) + (bias ? "b" : ""));
    m.register_parameter("weight", at::randn({cout, cin, k, k}), false);
    if (bias)
      m.register_parameter("bias", at::randn({cout}), false);
    else
      m.register_attribute("bias", c10::OptionalType::create(c10::TensorType::get()), c10::IValue());
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, self.bias, [" + std::to_string(stride) +
             ", " + std::to_string(stride) + "], [" + std::to_string(pad) + ", " + std::to_string(pad) +
             "], [1, 1], 1)\n");
    return m;
  };
  auto bn = [](int64_t c, const std::string& id) {
    torch::jit::Module m = ts::new_module("BN_" + id);
    m.register_parameter("weight", at::ones({c}), false);
    m.register_parameter("bias", at::zeros({c}), false);
    m.register_buffer("running_mean", at::zeros({c}));
    m.register_buffer("running_var", at::ones({c}));
    m.define(
        "def forward(self, x):\n"
        "    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, "
        "0.1, 1e-05, False)\n");
    return m;
  };
  torch::jit::Module relu = ts::new_module("ReLU");
  relu.define("def forward(self, x):\n    return torch.relu_(x)\n");

  torch::jit::Module block = ts::new_module("BasicBlock");
  block.register_module("conv1", conv(8, 8, 3, 1, 1, false));
  block.register_module("bn1", bn(8, "1"));
  block.register_module("relu", relu);
  block.register_module("conv2", conv(8, 8, 3, 1, 1, false));
  block.register_module("bn2", bn(8, "2"));
  block.define(R"(
def forward(self, x):
    identity = x
    out = self.conv1.forward(x)
    out = self.bn1.forward(out)
    out = self.relu.forward(out)
    out = self.conv2.forward(out)
    out = self.bn2.forward(out)
    out += identity
    out = self.relu.forward(out)
    return out
)");

  torch::jit::Module head = ts::new_module("Head");
  head.register_parameter("weight", at::randn({5, 6}), false);
  head.register_parameter("bias", at::randn({5}), false);

  torch::jit::Module top = ts::new_module("Net");
  top.register_module("stem", conv(3, 8, 3, 2, 1, true));
  top.register_module("block", block);
  top.register_module("left", conv(8, 4, 1, 1, 0, false));
  top.register_module("right", conv(8, 4, 3, 1, 1, false));
  top.register_module("head", head);
  top.register_parameter("fc_weight", at::randn({6, 8}), false);
  top.register_parameter("fc_bias", at::randn({6}), false);
  top.define(R"(
def forward(self, x):
    x = self.stem.forward(x)
    x = torch.hardtanh_(x, 0.0, 6.0)
    x = self.block.forward(x)
    a = self.left.forward(x)
    b = self.right.forward(x)
    x = torch.cat([a, b], 1)
    x = torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)
    n = 1
    for d in x.size():
        n = n * d
    if n == 0:
        x = torch.sigmoid(x)
    y = x.mean([2, 3])
    y = torch.dropout(y, 0.2, self.training)
    y = torch.addmm(self.fc_bias, y, self.fc_weight.t())
    y = torch.relu(y)
    return torch.matmul(y, self.head.weight.t()) + self.head.bias
)");
  return top;
}

TEST(TorchScriptImport, ModuleStructureNamesTheLayersAsTorchvisionDoes) {
  ImportOptions o;
  o.input = {3, 16, 16};
  o.name = "like_torchvision";
  const NetSpec imported = save_and_import(torchvision_like(), "like_torchvision.pt", o);
  const NetSpec expected = modelgen::parse_netspec(R"({
    "netspec": 1, "name": "like_torchvision", "classes": 5,
    "input": {"channels": 3, "height": 16, "width": 16},
    "layers": [
      {"name": "stem", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "stride": 2, "padding": 1, "bias": true},
      {"name": "relu6", "op": "relu6", "inputs": ["stem"], "inplace": true},
      {"name": "block_conv1", "op": "conv2d", "inputs": ["relu6"], "in_channels": 8, "out_channels": 8,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "block_bn1", "op": "batchnorm2d", "inputs": ["block_conv1"], "features": 8},
      {"name": "block_relu", "op": "relu", "inputs": ["block_bn1"], "inplace": true},
      {"name": "block_conv2", "op": "conv2d", "inputs": ["block_relu"], "in_channels": 8, "out_channels": 8,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "block_bn2", "op": "batchnorm2d", "inputs": ["block_conv2"], "features": 8},
      {"name": "block_add", "op": "add", "inputs": ["block_bn2", "relu6"]},
      {"name": "block_relu_1", "op": "relu", "inputs": ["block_add"], "inplace": true},
      {"name": "left", "op": "conv2d", "inputs": ["block_relu_1"], "in_channels": 8, "out_channels": 4,
       "kernel": 1, "bias": false},
      {"name": "right", "op": "conv2d", "inputs": ["block_relu_1"], "in_channels": 8, "out_channels": 4,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "cat", "op": "concat", "inputs": ["left", "right"]},
      {"name": "max_pool2d", "op": "maxpool2d", "inputs": ["cat"], "kernel": 2, "stride": 2},
      {"name": "mean", "op": "adaptive_avgpool2d", "inputs": ["max_pool2d"], "output_size": 1},
      {"name": "flatten", "op": "flatten", "inputs": ["mean"]},
      {"name": "dropout", "op": "dropout", "inputs": ["flatten"], "p": 0.2},
      {"name": "linear", "op": "linear", "inputs": ["dropout"], "in_features": 8, "out_features": 6},
      {"name": "relu", "op": "relu", "inputs": ["linear"], "inplace": false},
      {"name": "head", "op": "linear", "inputs": ["relu"], "in_features": 6, "out_features": 5}
    ],
    "output": "head"})", "expected");
  EXPECT_EQ(modelgen::netspec_to_json(imported), modelgen::netspec_to_json(expected));
}

TEST(TorchScriptImport, NetworksWithNetSpec11OpsComeBackAsNetSpec11) {
  for (const NetSpec& spec : {se_net(), convnext_like(), shufflenet_like()}) {
    SCOPED_TRACE(spec.name);
    ImportOptions o = input_of(spec);
    const NetSpec imported = save_and_import(ts::trace_network(spec), "traced11.pt", o);
    EXPECT_EQ(imported.minor_version(), 1);
    EXPECT_NE(modelgen::netspec_to_json(imported).find("\"netspec\": \"1.1\""), std::string::npos)
        << modelgen::netspec_to_json(imported);
  }
  EXPECT_EQ(save_and_import(ts::trace_network(testing_specs::tiny()), "tiny.pt", input_of(testing_specs::tiny()))
                .minor_version(),
            0);
}

// nn.Identity leaves nothing to see: the network comes back without the layer, its
// consumers reading its input.
TEST(TorchScriptImport, AnIdentityLeavesNoLayer) {
  NetSpec spec = testing_specs::tiny();
  spec.layers.insert(spec.layers.begin() + 2, modelgen::Layer{"id", modelgen::Op::kIdentity, {"relu"}, {}});
  spec.layers[3].inputs = {"id"};
  modelgen::infer_shapes(spec);
  for (const bool traced : {true, false}) {
    SCOPED_TRACE(traced ? "traced" : "scripted");
    const NetSpec imported = save_and_import(traced ? ts::trace_network(spec) : ts::script_network(spec), "id.pt",
                                             input_of(spec));
    expect_same_network(imported, testing_specs::tiny());
  }
}

// torchvision's NetSpec 1.1 patterns written as its modules write them: a squeeze-excitation
// module, ShuffleNetV2's chunk and channel_shuffle function, and ConvNeXt's CNBlock (permute,
// LayerNorm and Linear channels-last, GELU, permute back, layer_scale, stochastic depth,
// in-place residual add).
torch::jit::Module torchvision_like_11() {
  auto conv = [](const std::string& id, int64_t cin, int64_t cout, int64_t k, int64_t pad, int64_t groups,
                 bool bias) {
    torch::jit::Module m = ts::new_module("Conv_" + id);
    m.register_parameter("weight", at::randn({cout, cin / groups, k, k}), false);
    if (bias)
      m.register_parameter("bias", at::randn({cout}), false);
    else
      m.register_attribute("bias", c10::OptionalType::create(c10::TensorType::get()), c10::IValue());
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, self.bias, [1, 1], [" +
             std::to_string(pad) + ", " + std::to_string(pad) + "], [1, 1], " + std::to_string(groups) + ")\n");
    return m;
  };
  auto linear = [](const std::string& id, int64_t in, int64_t out) {
    torch::jit::Module m = ts::new_module("Linear_" + id);
    m.register_parameter("weight", at::randn({out, in}), false);
    m.register_parameter("bias", at::randn({out}), false);
    m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
    return m;
  };

  torch::jit::Module se = ts::new_module("SqueezeExcitation");
  se.register_module("fc1", conv("fc1", 8, 4, 1, 0, 1, true));
  se.register_module("fc2", conv("fc2", 4, 8, 1, 0, 1, true));
  se.define(R"(
def forward(self, x):
    s = torch.adaptive_avg_pool2d(x, [1, 1])
    s = self.fc1.forward(s)
    s = torch.relu(s)
    s = self.fc2.forward(s)
    s = torch.hardsigmoid(s)
    return s * x
)");

  torch::jit::Module norm = ts::new_module("LayerNorm");
  norm.register_parameter("weight", at::ones({8}), false);
  norm.register_parameter("bias", at::zeros({8}), false);
  norm.define("def forward(self, x):\n    return torch.layer_norm(x, [8], self.weight, self.bias, 1e-06)\n");
  torch::jit::Module sd = ts::new_module("StochasticDepth");
  sd.register_attribute("p", c10::FloatType::get(), 0.25);
  sd.define(R"(
def forward(self, x):
    if not self.training or self.p == 0.0:
        return x
    survival_rate = 1.0 - self.p
    size = [x.shape[0]] + [1] * (x.ndim - 1)
    noise = torch.empty(size, dtype=x.dtype, device=x.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return x * noise
)");
  torch::jit::Module block = ts::new_module("CNBlock");
  block.register_module("dwconv", conv("dw", 8, 8, 7, 3, 8, true));
  block.register_module("norm", norm);
  block.register_module("pwconv1", linear("pw1", 8, 16));
  block.register_module("pwconv2", linear("pw2", 16, 8));
  block.register_module("sd", sd);
  block.register_parameter("layer_scale", at::full({8, 1, 1}, 1e-6), false);
  block.define(R"(
def forward(self, x):
    y = self.dwconv.forward(x)
    y = y.permute(0, 2, 3, 1)
    y = self.norm.forward(y)
    y = self.pwconv1.forward(y)
    y = torch.gelu(y)
    y = self.pwconv2.forward(y)
    y = y.permute(0, 3, 1, 2)
    y = self.layer_scale * y
    y = self.sd.forward(y)
    y += x
    return y
)");

  torch::jit::Module top = ts::new_module("Net11");
  top.register_module("stem", conv("stem", 3, 8, 3, 1, 1, false));
  top.register_module("se", se);
  top.register_module("branch", conv("branch", 4, 4, 1, 0, 1, false));
  top.register_module("block", block);
  top.register_module("head", linear("head", 8, 5));
  top.define(R"(
def forward(self, x):
    x = self.stem.forward(x)
    x = torch.hardswish_(x)
    x = self.se.forward(x)
    x1, x2 = x.chunk(2, dim=1)
    x = torch.cat([x1, self.branch.forward(x2)], 1)
    batchsize, num_channels, height, width = x.size()
    x = x.view(batchsize, 2, num_channels // 2, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, num_channels, height, width)
    x = self.block.forward(x)
    x = x.mean([2, 3])
    return self.head.forward(x)
)");
  return top;
}

TEST(TorchScriptImport, TorchvisionsNetSpec11PatternsComeBackAsTheirLayers) {
  ImportOptions o;
  o.input = {3, 8, 8};
  o.name = "like_torchvision_11";
  const NetSpec imported = save_and_import(torchvision_like_11(), "like_torchvision_11.pt", o);
  const NetSpec expected = modelgen::parse_netspec(R"({
    "netspec": "1.1", "name": "like_torchvision_11", "classes": 5,
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
      {"name": "stem", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "padding": 1, "bias": false},
      {"name": "hardswish", "op": "hardswish", "inputs": ["stem"], "inplace": true},
      {"name": "se_adaptive_avg_pool2d", "op": "adaptive_avgpool2d", "inputs": ["hardswish"], "output_size": 1},
      {"name": "se_fc1", "op": "conv2d", "inputs": ["se_adaptive_avg_pool2d"], "in_channels": 8,
       "out_channels": 4, "kernel": 1},
      {"name": "se_relu", "op": "relu", "inputs": ["se_fc1"], "inplace": false},
      {"name": "se_fc2", "op": "conv2d", "inputs": ["se_relu"], "in_channels": 4, "out_channels": 8, "kernel": 1},
      {"name": "se_hardsigmoid", "op": "hardsigmoid", "inputs": ["se_fc2"], "inplace": false},
      {"name": "se_mul", "op": "mul", "inputs": ["se_hardsigmoid", "hardswish"]},
      {"name": "chunk", "op": "slice", "inputs": ["se_mul"], "start": 0, "end": 4},
      {"name": "chunk_1", "op": "slice", "inputs": ["se_mul"], "start": 4, "end": 8},
      {"name": "branch", "op": "conv2d", "inputs": ["chunk_1"], "in_channels": 4, "out_channels": 4,
       "kernel": 1, "bias": false},
      {"name": "cat", "op": "concat", "inputs": ["chunk", "branch"]},
      {"name": "channel_shuffle", "op": "channel_shuffle", "inputs": ["cat"], "groups": 2},
      {"name": "block_dwconv", "op": "conv2d", "inputs": ["channel_shuffle"], "in_channels": 8,
       "out_channels": 8, "kernel": 7, "padding": 3, "groups": 8},
      {"name": "block_norm", "op": "layernorm2d", "inputs": ["block_dwconv"], "channels": 8, "eps": 1e-6},
      {"name": "block_pwconv1", "op": "conv2d", "inputs": ["block_norm"], "in_channels": 8, "out_channels": 16,
       "kernel": 1},
      {"name": "block_gelu", "op": "gelu", "inputs": ["block_pwconv1"]},
      {"name": "block_pwconv2", "op": "conv2d", "inputs": ["block_gelu"], "in_channels": 16, "out_channels": 8,
       "kernel": 1},
      {"name": "block_layer_scale", "op": "scale", "inputs": ["block_pwconv2"], "channels": 8},
      {"name": "block_sd", "op": "drop_path", "inputs": ["block_layer_scale"], "p": 0.25},
      {"name": "block_add", "op": "add", "inputs": ["block_sd", "channel_shuffle"]},
      {"name": "mean", "op": "adaptive_avgpool2d", "inputs": ["block_add"], "output_size": 1},
      {"name": "flatten", "op": "flatten", "inputs": ["mean"]},
      {"name": "head", "op": "linear", "inputs": ["flatten"], "in_features": 8, "out_features": 5}
    ],
    "output": "head"})", "expected");
  EXPECT_EQ(modelgen::netspec_to_json(imported), modelgen::netspec_to_json(expected));
}

// Near misses of NetSpec 1.1's patterns are refused, each with its op, place and reason.
TEST(TorchScriptImport, WhatNetSpec11CannotSayIsListedWithReasons) {
  torch::jit::Module top = ts::new_module("Near");
  top.register_parameter("w", at::randn({4, 3, 3, 3}), false);
  top.register_parameter("s", at::randn({6}), false);
  top.define(R"(
def forward(self, x):
    x = torch.conv2d(x, self.w)
    y = x.permute(0, 2, 3, 1)
    y = torch.relu(y)
    y = torch.adaptive_avg_pool2d(y, [1, 1])
    z = x * 2.0
    z = z[:, :, 1:3]
    u = x.transpose(2, 3)
    v = self.s * x
    return torch.flatten(x, 1), y, z, u, v
)");
  ImportOptions o;
  o.input = {3, 8, 8};
  try {
    import_torchscript_module(top, "near.pt", o);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("near.pt: 5 ops are outside NetSpec 1.1: aten::adaptive_avg_pool2d at ", 0), 0u) << what;
    EXPECT_NE(what.find(" (an op on a channels-last (permuted) activation"), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::mul at "), std::string::npos) << what;
    EXPECT_NE(what.find(" (a mul by a number)"), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::slice at "), std::string::npos) << what;
    EXPECT_NE(what.find(" (a slice along a dimension other than the channels)"), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::transpose at "), std::string::npos) << what;
    EXPECT_NE(what.find(" (a transpose other than a channel shuffle's)"), std::string::npos) << what;
    EXPECT_NE(what.find("NetSpec scales by one factor per channel"), std::string::npos) << what;
    EXPECT_EQ(what.find("aten::relu"), std::string::npos) << what;  // NetSpec's, channels-last too
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(TorchScriptImport, EveryOpOutsideNetSpecIsListedWithItsPlaceInOneError) {
  torch::jit::Module act = ts::new_module("GELU");
  act.define("def forward(self, x):\n    return torch.gelu(x, approximate=\"tanh\")\n");
  torch::jit::Module stats = ts::new_module("Stats");
  stats.register_buffer("running_mean", at::zeros({4}));
  stats.register_buffer("running_var", at::ones({4}));
  torch::jit::Module top = ts::new_module("Odd");
  top.register_parameter("w", at::randn({4, 3, 3, 3}), false);
  top.register_module("act", act);
  top.register_module("stats", stats);
  top.define(R"(
def forward(self, x):
    x = torch.conv2d(x, self.w)
    x = torch.tanh(x)
    x = self.act.forward(x)
    x = torch.batch_norm(x, None, None, self.stats.running_mean, self.stats.running_var, True, 0.1, 1e-05, False)
    x = torch.relu(x)
    return x.view(x.size(0), 2, -1).sum(2)
)");
  ImportOptions o;
  o.input = {3, 8, 8};
  const std::string path = temp_path("odd.pt");
  top.save(path);
  try {
    import_torchscript(path, o);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": 5 ops are outside NetSpec 1.1: aten::tanh at ", 0), 0u) << what;
    EXPECT_NE(what.find("; aten::gelu at "), std::string::npos) << what;
    EXPECT_NE(what.find(" in module act (gelu with the \"tanh\" approximation)"), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::batch_norm at "), std::string::npos) << what;
    EXPECT_NE(what.find("(a batch norm without affine parameters)"), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::view at "), std::string::npos) << what;
    EXPECT_NE(what.find("; aten::sum at "), std::string::npos) << what;
    EXPECT_EQ(what.find("aten::relu"), std::string::npos) << what;  // NetSpec's, even after the others
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  std::remove(path.c_str());
}

TEST(TorchScriptImport, TheInputSizeIsTheCallersAndAWrongOneSaysSo) {
  const NetSpec spec = modelgen::make_builtin_network("vgg11_cifar10_p50_s1");
  const std::string path = temp_path("vgg.pt");
  ts::trace_network(spec).save(path);
  try {
    import_torchscript(path);  // 224 x 224: the classifier expects 512 x 1 x 1 features
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("3x224x224 input"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--input C,H,W"), std::string::npos) << e.what();
  }
  expect_same_network(import_torchscript(path, input_of(spec)), spec);
  std::remove(path.c_str());
}

TEST(TorchScriptImport, WhatIsNotOneNetworkIsRefused) {
  const std::string junk = temp_path("junk.pt");
  write_file_atomically(junk, "not a zip archive");
  try {
    import_torchscript(junk);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(junk + ": not a TorchScript file LibTorch can load: ", 0), 0u) << e.what();
  }
  std::remove(junk.c_str());

  auto expect_refused = [](torch::jit::Module m, const std::string& problem) {
    ImportOptions o;
    o.input = {3, 8, 8};
    try {
      import_torchscript_module(m, "m.pt", o);
      ADD_FAILURE() << "no error for " << problem;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(problem), std::string::npos) << e.what();
    }
  };
  torch::jit::Module two = ts::new_module("Two");
  two.register_parameter("w", at::randn({4, 3}), false);
  two.define("def forward(self, x):\n    y = x.flatten(1)[:, :3]\n    return y, y\n");
  expect_refused(two, "outside NetSpec 1.1: aten::slice");
  torch::jit::Module pair = ts::new_module("Pair");
  pair.register_parameter("w", at::randn({4, 192}), false);
  pair.define("def forward(self, x):\n    y = torch.linear(torch.flatten(x, 1), self.w)\n    return y, torch.relu(y)\n");
  expect_refused(pair, "forward returns 2 tensors");
  torch::jit::Module args = ts::new_module("Args");
  args.define("def forward(self, x, y):\n    return x + y\n");
  expect_refused(args, "forward takes 2 arguments");
  torch::jit::Module same = ts::new_module("Same");
  same.define("def forward(self, x):\n    return torch.relu(x)\n");
  expect_refused(same, "the loss needs [N, classes]");
}

}  // namespace
}  // namespace p4s::modelgen_torch
