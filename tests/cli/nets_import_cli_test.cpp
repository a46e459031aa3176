// `p4s nets import` as users run it: p4s hands the command to p4s-torch beside it; the exit
// status, stdout, stderr and the file written, for TorchScript files that the test makes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "tests/cli/run_p4s.hpp"
#include "tests/modelgen_torch/torchscript_fixtures.hpp"

namespace p4s {
namespace {

namespace ts = modelgen_torch::testing_torchscript;

using test::exists;
using test::Outcome;
using test::p4s;
using test::temp_path;

class NetsImportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    spec_ = modelgen::make_builtin_network("squeezenet1.1_cifar10_p50_s1");
    model_ = temp_path("squeezenet.pt");
    ts::trace_network(spec_).save(model_);
  }
  void TearDown() override { unlink(model_.c_str()); }
  modelgen::NetSpec spec_;
  std::string model_;
};

TEST_F(NetsImportCli, WritesTheNetSpecFile) {
  const std::string out = temp_path("imported.json");
  const Outcome r = p4s({"nets", "import", model_, "--input", "3,32,32", "--name", "sq", "-o", out});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const modelgen::NetSpec imported = modelgen::read_netspec(out);
  EXPECT_EQ(imported.name, "sq");
  EXPECT_EQ(imported.layers.size(), spec_.layers.size());
  const int64_t params = modelgen::infer_shapes(spec_).params;
  EXPECT_EQ(modelgen::infer_shapes(imported).params, params);
  EXPECT_EQ(r.out, "wrote sq (" + std::to_string(spec_.layers.size()) + " layers, " + std::to_string(params) +
                       " parameters) to " + out + "\n");
  unlink(out.c_str());
}

TEST_F(NetsImportCli, WithoutAnOutputFilePrintsTheNetSpec) {
  const Outcome r = p4s({"nets", "import", model_, "--input=32"});
  ASSERT_EQ(r.status, 0) << r.err;
  const modelgen::NetSpec imported = modelgen::parse_netspec(r.out, "stdout");
  // Named after the file: its stem (temp_path's prefix, the process id, "squeezenet").
  EXPECT_EQ(imported.name, "p4s_cli_" + std::to_string(getpid()) + "_squeezenet");
  EXPECT_EQ(imported.input, spec_.input);
  EXPECT_EQ(modelgen::infer_shapes(imported).params, modelgen::infer_shapes(spec_).params);
}

TEST_F(NetsImportCli, BadInputExitsWith2OnOneLineAndWritesNothing) {
  torch::jit::Module odd = ts::new_module("Odd");
  odd.register_parameter("w", at::randn({4, 3, 3, 3}), false);
  odd.define("def forward(self, x):\n    return torch.tanh(torch.conv2d(x, self.w)).flatten(1)\n");
  const std::string odd_path = temp_path("odd.pt");
  odd.save(odd_path);
  const std::string out = temp_path("never.json");
  auto expect_bad = [&](const std::vector<std::string>& args, const std::string& said) {
    std::vector<std::string> all = {"nets", "import"};
    all.insert(all.end(), args.begin(), args.end());
    const Outcome r = p4s(all);
    EXPECT_EQ(r.status, 2) << said;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("p4s nets: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(exists(out));
  };
  expect_bad({odd_path, "--input", "3,16,16", "-o", out}, odd_path + ": 1 op is outside NetSpec 1.1: aten::tanh at ");
  // A CIFAR classifier that flattens 4 x 4 features cannot run at the default 224 x 224.
  const std::string alexnet = temp_path("alexnet.pt");
  ts::trace_network(modelgen::make_builtin_network("alexnet_cifar10_w0.5")).save(alexnet);
  expect_bad({alexnet, "-o", out}, "failed on a 3x224x224 input");
  unlink(alexnet.c_str());
  expect_bad({temp_path("missing.pt"), "-o", out}, "missing.pt: cannot open");
  expect_bad({model_, "--input", "3,x,32", "-o", out}, "--input 3,x,32: ");
  expect_bad({model_, "--input", "3,32", "-o", out}, "--input 3,32: ");
  expect_bad({model_, "--frobnicate", "-o", out}, "unknown option \"--frobnicate\"");
  expect_bad({"-o", out}, "give the TorchScript file");
  expect_bad({model_, model_}, "unexpected argument");
  unlink(odd_path.c_str());
}

TEST(NetsImportCliHelp, HelpNamesImport) {
  const Outcome r = p4s({"nets", "--help"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("p4s nets import MODEL.pt"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace p4s
