// NetSpec v1: reading the real TX2 files, shape inference, round trips, and one test per rule
// of the format that a malformed file can break.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::modelgen {
namespace {

using nlohmann::json;
using test::kTx2Dir;

TEST(NetSpecTx2, AllThirtyNineFilesLoadAndInferShapes) {
  const std::vector<std::string> files = test::tx2_netspec_files();
  ASSERT_EQ(files.size(), 39u);
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const NetSpec spec = read_netspec(f);
    const ShapedNet net = infer_shapes(spec, f);
    EXPECT_EQ(net.layers.size(), spec.layers.size());
    EXPECT_GT(net.params, 0);
    const TensorShape& out = net.layers[static_cast<size_t>(net.output)].out;
    EXPECT_TRUE(out.flat);
    EXPECT_EQ(out.channels, 1000);
  }
}

TEST(NetSpecTx2, Resnet18HasTorchvisionParameterCount) {
  const NetSpec spec = read_netspec(kTx2Dir + "/resnet18_0.json");
  const ShapedNet net = infer_shapes(spec);
  EXPECT_EQ(spec.name, "resnet18_0");
  EXPECT_EQ(net.params, 11'689'512);
  EXPECT_EQ(net.buffers, 2 * 4800);  // running mean and variance of 4800 BN channels
  // The last block's output before pooling is 512 x 7 x 7.
  int pool = -1;
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].op == Op::kAdaptiveAvgPool2d) pool = static_cast<int>(i);
  ASSERT_GE(pool, 0);
  EXPECT_EQ(net.shape_of(net.layers[static_cast<size_t>(pool)].inputs[0]), (TensorShape{512, 7, 7, false}));
  // torchvision's ResNet-18 is 1.814 GMACs at 224x224.
  EXPECT_NEAR(static_cast<double>(net.forward_macs), 1.8142e9, 0.001e9);
}

TEST(NetSpecTx2, SqueezenetCeilModePoolingGivesTorchvisionShapes) {
  const NetSpec spec = read_netspec(kTx2Dir + "/squeezenet_0.json");
  const ShapedNet net = infer_shapes(spec);
  EXPECT_EQ(net.params, 1'248'424);  // torchvision squeezenet1_0
  std::vector<TensorShape> pools;
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].op == Op::kMaxPool2d) pools.push_back(net.layers[i].out);
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_EQ(pools[0].height, 54);  // 109 -> 54 only with ceil mode (floor gives 54 too: see 2nd)
  EXPECT_EQ(pools[1].height, 27);  // 54 -> 27 with ceil mode, 26 without
  EXPECT_EQ(pools[2].height, 13);  // 27 -> 13
}

TEST(NetSpecTx2, RoundTripKeepsEverySpecEqual) {
  for (const std::string& f : test::tx2_netspec_files()) {
    SCOPED_TRACE(f);
    const NetSpec spec = read_netspec(f);
    EXPECT_EQ(parse_netspec(netspec_to_json(spec), "round-trip"), spec);
  }
}

TEST(Shapes, WindowOutputSizeFollowsPyTorch) {
  EXPECT_EQ(window_output_size(224, 7, 2, 3, 1, false), 112);
  EXPECT_EQ(window_output_size(112, 3, 2, 1, 1, false), 56);
  EXPECT_EQ(window_output_size(54, 3, 2, 0, 1, false), 26);
  EXPECT_EQ(window_output_size(54, 3, 2, 0, 1, true), 27);
  EXPECT_EQ(window_output_size(6, 3, 2, 1, 1, true), 4);
  // Ceil mode drops a last window that would start in the right padding.
  EXPECT_EQ(window_output_size(5, 2, 2, 1, 1, true), 3);
  EXPECT_EQ(window_output_size(10, 3, 1, 2, 2, false), 10);  // dilation 2
  EXPECT_LE(window_output_size(2, 5, 1, 0, 1, false), 0);
}

// A small valid network to break one rule at a time.
json tiny() {
  return json::parse(R"({
    "netspec": 1, "name": "tiny", "input": {"channels": 3, "height": 8, "width": 8}, "classes": 10,
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1, "bias": false},
      {"name": "bn", "op": "batchnorm2d", "inputs": ["conv"], "features": 8},
      {"name": "relu", "op": "relu", "inputs": ["bn"], "inplace": true},
      {"name": "conv2", "op": "conv2d", "inputs": ["relu"], "in_channels": 8, "out_channels": 8,
       "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 8, "bias": false},
      {"name": "add", "op": "add", "inputs": ["conv2", "relu"]},
      {"name": "cat", "op": "concat", "inputs": ["add", "conv"]},
      {"name": "pool", "op": "maxpool2d", "inputs": ["cat"], "kernel": [2, 2], "stride": [2, 2],
       "padding": [0, 0], "ceil_mode": false},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["pool"], "output_size": [1, 1]},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "drop", "op": "dropout", "inputs": ["flat"], "p": 0.2},
      {"name": "fc", "op": "linear", "inputs": ["drop"], "in_features": 16, "out_features": 10, "bias": true}
    ],
    "output": "fc"})");
}

TEST(Shapes, TinyNetworkShapesParamsAndFlops) {
  const NetSpec spec = parse_netspec(tiny().dump(), "tiny.json");
  const ShapedNet net = infer_shapes(spec);
  EXPECT_EQ(net.layers[5].out, (TensorShape{16, 8, 8, false}));  // concat of 8 + 8 channels
  EXPECT_EQ(net.layers[6].out, (TensorShape{16, 4, 4, false}));
  EXPECT_EQ(net.layers[8].out, (TensorShape{16, 1, 1, true}));
  const int64_t conv_params = 8 * 3 * 9, bn_params = 16, dw_params = 8 * 9, fc_params = 16 * 10 + 10;
  EXPECT_EQ(net.params, conv_params + bn_params + dw_params + fc_params);
  const int64_t conv_macs = 64 * 8 * 27, dw_macs = 64 * 8 * 9, fc_macs = 160;
  EXPECT_EQ(net.forward_macs, conv_macs + dw_macs + fc_macs);
  // The first conv reads the network input: no input gradient, so 2x its MACs, others 3x.
  EXPECT_EQ(net.training_flops(4), 2 * 4 * (2 * conv_macs + 3 * dw_macs + 3 * fc_macs));
}

TEST(NetSpecIo, OptionalAttributesTakePyTorchDefaults) {
  json j = tiny();
  for (const char* k : {"stride", "padding", "dilation", "groups", "bias"}) j["layers"][0].erase(k);
  j["layers"][0]["padding"] = 1;  // a single integer means [1, 1]
  j["layers"][6].erase("stride");
  const NetSpec spec = parse_netspec(j.dump(), "defaults.json");
  EXPECT_EQ(spec.layers[0].conv().stride, (Hw{1, 1}));
  EXPECT_EQ(spec.layers[0].conv().padding, (Hw{1, 1}));
  EXPECT_TRUE(spec.layers[0].conv().bias);
  EXPECT_EQ(spec.layers[6].pool().stride, (Hw{2, 2}));  // the kernel
}

TEST(NetSpecIo, WriteIsAtomicAndReadable) {
  const std::string path = testing::TempDir() + "/tiny_written.json";
  const NetSpec spec = parse_netspec(tiny().dump(), "tiny.json");
  write_netspec(spec, path);
  EXPECT_EQ(read_netspec(path), spec);
  EXPECT_THROW(write_netspec(spec, "/nonexistent-dir/x.json"), std::runtime_error);
}

struct Broken {
  const char* rule;
  std::function<void(json&)> breaks;
  const char* where;    // expected in the message
  const char* problem;  // expected in the message
};

void PrintTo(const Broken& b, std::ostream* os) { *os << b.rule; }

class MalformedNetSpec : public testing::TestWithParam<Broken> {};

TEST_P(MalformedNetSpec, IsRefusedWithFileLayerAndProblem) {
  json j = tiny();
  GetParam().breaks(j);
  try {
    parse_netspec(j.dump(), "broken.json");
    FAIL() << "accepted a file that breaks: " << GetParam().rule;
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("broken.json: ", 0), 0u) << what;
    EXPECT_NE(what.find(GetParam().where), std::string::npos) << what;
    EXPECT_NE(what.find(GetParam().problem), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

void set(json& j, int layer, const char* key, json v) { j["layers"][layer][key] = std::move(v); }

const Broken kBroken[] = {
    {"missing version", [](json& j) { j.erase("netspec"); }, "field \"netspec\"", "not a NetSpec"},
    {"newer version", [](json& j) { j["netspec"] = 2; }, "field \"netspec\"", "newer than this reader"},
    {"unknown top-level field", [](json& j) { j["extra"] = 1; }, "field \"extra\"", "unknown field"},
    {"missing name", [](json& j) { j.erase("name"); }, "field \"name\"", "is missing"},
    {"empty name", [](json& j) { j["name"] = ""; }, "field \"name\"", "must not be empty"},
    {"zero input height", [](json& j) { j["input"]["height"] = 0; }, "field \"input.height\"", "must be positive"},
    {"negative channels", [](json& j) { j["input"]["channels"] = -3; }, "field \"input.channels\"", "must be positive"},
    {"zero classes", [](json& j) { j["classes"] = 0; }, "field \"classes\"", "must be positive"},
    {"classes as text", [](json& j) { j["classes"] = "10"; }, "field \"classes\"", "must be an integer"},
    {"fractional size", [](json& j) { set(j, 0, "out_channels", 8.5); }, "layer \"conv\": field \"out_channels\"", "must be an integer"},
    {"no layers", [](json& j) { j["layers"] = json::array(); }, "field \"layers\"", "at least one layer"},
    {"layers not a list", [](json& j) { j["layers"] = json::object(); }, "field \"layers\"", "must be a list"},
    {"unknown op", [](json& j) { set(j, 2, "op", "swish7"); }, "layer \"relu\": field \"op\"", "unknown op \"swish7\""},
    {"unknown attribute", [](json& j) { set(j, 1, "momentum", 0.1); }, "layer \"bn\": field \"momentum\"", "unknown attribute"},
    {"missing attribute", [](json& j) { j["layers"][0].erase("kernel"); }, "layer \"conv\": field \"kernel\"", "is missing"},
    {"malformed pair", [](json& j) { set(j, 0, "kernel", json::array({3, 3, 3})); }, "layer \"conv\": field \"kernel\"", "[h, w]"},
    {"input names a later layer", [](json& j) { set(j, 1, "inputs", json::array({"relu"})); }, "layer \"bn\"", "topological order"},
    {"input names nothing", [](json& j) { set(j, 1, "inputs", json::array({"nope"})); }, "layer \"bn\"", "names no earlier layer"},
    {"no inputs", [](json& j) { set(j, 1, "inputs", json::array()); }, "layer \"bn\"", "has no inputs"},
    {"duplicate name", [](json& j) { set(j, 2, "name", "bn"); j["layers"][3]["inputs"] = {"bn"}; }, "layer \"bn\"", "duplicate layer name"},
    {"reserved name", [](json& j) { set(j, 0, "name", "input"); }, "layer \"input\"", "reserved"},
    {"conv channels mismatch", [](json& j) { set(j, 0, "in_channels", 4); }, "layer \"conv\"", "does not match its input's 3 channels"},
    {"groups do not divide", [](json& j) { set(j, 3, "groups", 3); }, "layer \"conv2\"", "does not divide"},
    {"zero stride", [](json& j) { set(j, 0, "stride", json::array({0, 1})); }, "layer \"conv\"", "stride must be positive"},
    {"negative padding", [](json& j) { set(j, 0, "padding", json::array({-1, 1})); }, "layer \"conv\"", "padding must not be negative"},
    {"window larger than input", [](json& j) { set(j, 0, "kernel", json::array({11, 11})); }, "layer \"conv\"", "does not fit the input"},
    {"absurd size", [](json& j) { set(j, 0, "out_channels", int64_t{1} << 40); }, "layer \"conv\"", "too large"},
    {"bn features mismatch", [](json& j) { set(j, 1, "features", 7); }, "layer \"bn\"", "does not match"},
    {"bn on a flat input", [](json& j) { set(j, 9, "op", "batchnorm2d"); j["layers"][9].erase("p"); set(j, 9, "features", 16); }, "layer \"drop\"", "needs an input with channels"},
    {"linear on a spatial input", [](json& j) { set(j, 10, "inputs", json::array({"pool"})); }, "layer \"fc\"", "needs a flat input"},
    {"linear features mismatch", [](json& j) { set(j, 10, "in_features", 15); }, "layer \"fc\"", "in_features 15 does not match"},
    {"add of different shapes", [](json& j) { set(j, 4, "inputs", json::array({"conv2", "input"})); }, "layer \"add\"", "one shape"},
    {"add of three", [](json& j) { set(j, 4, "inputs", json::array({"conv2", "relu", "bn"})); }, "layer \"add\"", "two inputs"},
    {"concat of one", [](json& j) { set(j, 5, "inputs", json::array({"add"})); }, "layer \"cat\"", "two or more"},
    {"concat spatial mismatch", [](json& j) { set(j, 0, "stride", json::array({2, 2})); set(j, 5, "inputs", json::array({"add", "input"})); }, "layer \"cat\"", "differ only in channels"},
    {"relu of two", [](json& j) { set(j, 2, "inputs", json::array({"bn", "conv"})); }, "layer \"relu\"", "takes one input"},
    {"pool padding over half", [](json& j) { set(j, 6, "padding", json::array({2, 0})); }, "layer \"pool\"", "more than half"},
    {"dropout p above one", [](json& j) { set(j, 9, "p", 1.5); }, "layer \"drop\"", "within [0, 1]"},
    {"adaptive output zero", [](json& j) { set(j, 7, "output_size", json::array({0, 1})); }, "layer \"gap\"", "output_size must be positive"},
    {"output names nothing", [](json& j) { j["output"] = "nope"; }, "field \"output\"", "names no layer"},
    {"output not classes", [](json& j) { j["classes"] = 5; }, "field \"output\"", "needs [5]"},
    {"layer not an object", [](json& j) { j["layers"][1] = 3; }, "layer #1", "must be a JSON object"},
    // Found by fuzzing: a name holding a newline broke the message in two.
    {"newline in a layer name", [](json& j) { set(j, 2, "name", "re\nlu\r"); set(j, 2, "op", "swish7"); },
     "layer \"re\\x0alu\\x0d\"", "unknown op"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, MalformedNetSpec, testing::ValuesIn(kBroken),
                         [](const testing::TestParamInfo<Broken>& p) {
                           std::string n = p.param.rule;
                           std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                           return n;
                         });

TEST(NetSpecIo, SyntaxErrorsNameLineAndColumn) {
  try {
    parse_netspec("{\n  \"netspec\": 1,\n  \"name\": tiny\n}", "syntax.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("syntax.json: not valid JSON at line 3"), std::string::npos)
        << e.what();
  }
}

// Found by fuzzing: text that nlohmann's parser refuses without a parse_error, and nesting
// deep enough to overflow the stack of recursive code, are NetSpecErrors like any bad file.
TEST(NetSpecIo, RefusesNumbersBeyondDoubleAndAbsurdNesting) {
  const auto refusal = [](const std::string& text) -> std::string {
    try {
      parse_netspec(text, "odd.json");
    } catch (const InputError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refusal(R"({"netspec": 1, "classes": 1e999})"),
            "odd.json: not valid JSON: number overflow parsing '1e999'");
  const size_t depth = 1'000'000;
  // A kernel that is not [h, w] is quoted in the error, which recursed once per level.
  const std::string deep = R"({"netspec": 1, "name": "n", "input": {"channels": 1, "height": 1, "width": 1},
    "classes": 1, "layers": [{"name": "c", "op": "conv2d", "inputs": ["input"], "in_channels": 1,
    "out_channels": 1, "kernel": )" + std::string(depth, '[') + std::string(depth, ']') + "}]}";
  EXPECT_EQ(refusal(deep), "odd.json: not a NetSpec: JSON nested deeper than 64 levels");
  // 64 levels are read (and then refused for what they hold).
  const std::string deep64 = R"({"netspec": 1, "x": )" + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_NE(refusal(deep64).find("field \"x\": unknown field"), std::string::npos) << refusal(deep64);
}

TEST(NetSpecIo, UnreadableAndEmptyFilesAreRefusedWithThePath) {
  EXPECT_THROW(
      {
        try {
          read_netspec("/nonexistent/net.json");
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("/nonexistent/net.json: cannot open"), std::string::npos);
          throw;
        }
      },
      InputError);
  const std::string empty = testing::TempDir() + "/empty_netspec.json";
  p4s::write_file_atomically(empty, "  \n");
  EXPECT_THROW(read_netspec(empty), InputError);
  EXPECT_THROW(read_netspec(testing::TempDir()), InputError);  // a folder
}

}  // namespace
}  // namespace p4s::modelgen
