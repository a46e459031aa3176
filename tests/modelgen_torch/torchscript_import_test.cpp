// TorchScript -> NetSpec: networks traced and scripted here with LibTorch, saved, loaded and
// imported back, compared with the specs they came from (ops, attributes, connections, shapes,
// parameter counts, names); a torchvision-like module with blocks, functional calls and
// control flow; and the one error that lists every op outside NetSpec v1.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "modelgen/builtin.hpp"
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

// The same network: input, classes, and layer by layer the op, its attributes and which
// layers feed it; layers with parameters keep their names (modules cannot have '.').
void expect_same_network(const NetSpec& imported, const NetSpec& original) {
  EXPECT_EQ(imported.input, original.input);
  EXPECT_EQ(imported.classes, original.classes);
  ASSERT_EQ(imported.layers.size(), original.layers.size());
  for (size_t i = 0; i < original.layers.size(); ++i) {
    const modelgen::Layer& a = imported.layers[i];
    const modelgen::Layer& b = original.layers[i];
    SCOPED_TRACE(original.name + " layer " + b.name);
    EXPECT_EQ(a.op, b.op);
    EXPECT_TRUE(a.attrs == b.attrs);
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

std::vector<NetSpec> networks() {
  std::vector<NetSpec> specs = {testing_specs::every_op(), testing_specs::tiny()};
  for (const char* name : {"resnet18_cifar10_p50_s1", "resnet50_cifar10_p80_s2", "mobilenetv2_cifar10_p30_s2",
                           "squeezenet1.0_cifar10", "squeezenet1.1_cifar100_p40_s1", "googlenet_cifar10_p70_s1",
                           "alexnet_cifar10_w0.5", "vgg11bn_cifar10_p60_s3", "mnasnet1.0_cifar10_p50_s1"})
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
    NetSpec renamed = spec;  // '.' cannot stand in module names
    for (modelgen::Layer& l : renamed.layers) {
      l.name = ts::module_name(l.name);
      for (std::string& in : l.inputs) in = ts::module_name(in);
    }
    renamed.output = ts::module_name(renamed.output);
    EXPECT_EQ(modelgen::netspec_to_json(imported), modelgen::netspec_to_json(renamed));
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

TEST(TorchScriptImport, EveryOpOutsideNetSpecIsListedWithItsPlaceInOneError) {
  torch::jit::Module act = ts::new_module("GELU");
  act.define("def forward(self, x):\n    return torch.gelu(x)\n");
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
    x = torch.sigmoid(x)
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
    EXPECT_EQ(what.rfind(path + ": 5 ops are outside NetSpec v1: aten::sigmoid at ", 0), 0u) << what;
    EXPECT_NE(what.find("; aten::gelu at "), std::string::npos) << what;
    EXPECT_NE(what.find(" in module act"), std::string::npos) << what;
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
  expect_refused(two, "outside NetSpec v1: aten::slice");
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
