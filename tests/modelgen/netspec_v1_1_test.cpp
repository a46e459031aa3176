// NetSpec 1.1 (modelgen/NETSPEC.md): its version rules, shapes and parameters of the ops it
// adds, round trips, and one test per rule of those ops that a file can break.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {
namespace {

using nlohmann::json;

// A network with every op of 1.1: a squeeze-excitation block (hardsigmoid, mul), a ShuffleNet
// unit (slices, concat, channel_shuffle), a ConvNeXt block (layernorm2d, gelu, scale,
// drop_path), the other activations, identity.
json every_op() {
  return json::parse(R"({
    "netspec": "1.1", "name": "every_op", "input": {"channels": 3, "height": 8, "width": 8}, "classes": 10,
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 16,
       "kernel": [3, 3], "padding": [1, 1], "bias": false},
      {"name": "hswish", "op": "hardswish", "inputs": ["conv"], "inplace": true},
      {"name": "se_pool", "op": "adaptive_avgpool2d", "inputs": ["hswish"], "output_size": [1, 1]},
      {"name": "se_fc1", "op": "conv2d", "inputs": ["se_pool"], "in_channels": 16, "out_channels": 4, "kernel": 1},
      {"name": "se_act", "op": "silu", "inputs": ["se_fc1"]},
      {"name": "se_fc2", "op": "conv2d", "inputs": ["se_act"], "in_channels": 4, "out_channels": 16, "kernel": 1},
      {"name": "se_gate", "op": "hardsigmoid", "inputs": ["se_fc2"]},
      {"name": "se", "op": "mul", "inputs": ["se_gate", "hswish"]},
      {"name": "half1", "op": "slice", "inputs": ["se"], "start": 0, "end": 8},
      {"name": "half2", "op": "slice", "inputs": ["se"], "start": 8, "end": 16},
      {"name": "branch", "op": "conv2d", "inputs": ["half2"], "in_channels": 8, "out_channels": 8, "kernel": 1},
      {"name": "gate", "op": "sigmoid", "inputs": ["branch"]},
      {"name": "cat", "op": "concat", "inputs": ["half1", "gate"]},
      {"name": "shuffle", "op": "channel_shuffle", "inputs": ["cat"], "groups": 2},
      {"name": "ln", "op": "layernorm2d", "inputs": ["shuffle"], "channels": 16, "eps": 1e-6},
      {"name": "pw", "op": "conv2d", "inputs": ["ln"], "in_channels": 16, "out_channels": 16, "kernel": 1},
      {"name": "gelu", "op": "gelu", "inputs": ["pw"]},
      {"name": "ls", "op": "scale", "inputs": ["gelu"], "channels": 16},
      {"name": "sd", "op": "drop_path", "inputs": ["ls"], "p": 0.1},
      {"name": "add", "op": "add", "inputs": ["sd", "shuffle"]},
      {"name": "id", "op": "identity", "inputs": ["add"]},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["id"], "output_size": [1, 1]},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 16, "out_features": 10}
    ],
    "output": "fc"})");
}

TEST(NetSpec11, EveryNewOpReadsWithItsShapeAndParameters) {
  const NetSpec spec = parse_netspec(every_op().dump(), "every_op.json");
  EXPECT_EQ(spec.minor_version(), 1);
  const ShapedNet net = infer_shapes(spec);
  auto shape = [&](const char* name) { return net.layers[static_cast<size_t>(spec.find_layer(name))].out; };
  auto params = [&](const char* name) { return net.layers[static_cast<size_t>(spec.find_layer(name))].params; };
  EXPECT_EQ(shape("se"), (TensorShape{16, 8, 8, false}));  // [16, 1, 1] x [16, 8, 8]
  EXPECT_EQ(shape("half2"), (TensorShape{8, 8, 8, false}));
  EXPECT_EQ(shape("shuffle"), (TensorShape{16, 8, 8, false}));
  EXPECT_EQ(params("ln"), 32);  // weight and bias per channel
  EXPECT_EQ(params("ls"), 16);
  EXPECT_EQ(params("sd"), 0);
  EXPECT_TRUE(spec.layers[1].activation().inplace);
  EXPECT_EQ(spec.layers[static_cast<size_t>(spec.find_layer("ln"))].channel().eps, 1e-6);
  EXPECT_EQ(spec.layers[static_cast<size_t>(spec.find_layer("sd"))].dropout().p, 0.1);
}

TEST(NetSpec11, WrittenAsOnePointOneAndReadBackEqual) {
  const NetSpec spec = parse_netspec(every_op().dump(), "every_op.json");
  const std::string text = netspec_to_json(spec);
  EXPECT_EQ(json::parse(text)["netspec"], "1.1");
  EXPECT_EQ(parse_netspec(text, "round-trip"), spec);
}

TEST(NetSpec11, AFileWithoutNewOpsStaysVersionOne) {
  json j = every_op();
  j["layers"] = json::array({j["layers"][0], json::parse(R"({"name": "relu", "op": "relu", "inputs": ["conv"]})"),
                             json::parse(R"({"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["relu"], "output_size": 1})"),
                             json::parse(R"({"name": "flat", "op": "flatten", "inputs": ["gap"]})"),
                             json::parse(R"({"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 16, "out_features": 10})")});
  // "1.1" (or "1.0") may label a v1 network; the writer says 1, as v1 readers expect.
  for (const char* version : {"1.1", "1.0", "1"}) {
    j["netspec"] = version;
    const NetSpec spec = parse_netspec(j.dump(), "v1.json");
    EXPECT_EQ(spec.minor_version(), 0);
    EXPECT_EQ(json::parse(netspec_to_json(spec))["netspec"], 1);
  }
}

struct Broken {
  const char* rule;
  std::function<void(json&)> breaks;
  const char* where;
  const char* problem;
};

void PrintTo(const Broken& b, std::ostream* os) { *os << b.rule; }

class MalformedNetSpec11 : public testing::TestWithParam<Broken> {};

TEST_P(MalformedNetSpec11, IsRefusedWithFileLayerAndProblem) {
  json j = every_op();
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

json& layer(json& j, const char* name) {
  for (json& l : j["layers"])
    if (l["name"] == name) return l;
  throw std::logic_error(std::string("no layer ") + name);
}

const Broken kBroken[] = {
    {"new op in a v1 file", [](json& j) { j["netspec"] = 1; }, "layer \"hswish\": field \"op\"", "is NetSpec 1.1"},
    {"newer minor version", [](json& j) { j["netspec"] = "1.2"; }, "field \"netspec\"", "newer than this reader understands (1.1)"},
    {"newer major version", [](json& j) { j["netspec"] = "2.0"; }, "field \"netspec\"", "newer than this reader"},
    {"version not a version", [](json& j) { j["netspec"] = "1.x"; }, "field \"netspec\"", "is not a version"},
    {"version as a fraction", [](json& j) { j["netspec"] = 1.1; }, "field \"netspec\"", "must be 1 or \"1.1\""},
    {"inplace gelu", [](json& j) { layer(j, "gelu")["inplace"] = true; }, "layer \"gelu\": field \"inplace\"", "unknown attribute"},
    {"inplace sigmoid", [](json& j) { layer(j, "gate")["inplace"] = false; }, "layer \"gate\": field \"inplace\"", "unknown attribute"},
    {"activation of two", [](json& j) { layer(j, "gelu")["inputs"] = {"pw", "ln"}; }, "layer \"gelu\"", "takes one input"},
    {"mul of one", [](json& j) { layer(j, "se")["inputs"] = {"hswish"}; }, "layer \"se\"", "mul takes two inputs"},
    {"mul of mismatched shapes", [](json& j) { layer(j, "se")["inputs"] = {"se_fc1", "hswish"}; }, "layer \"se\"", "[C, 1, 1] factor"},
    {"scale channels mismatch", [](json& j) { layer(j, "ls")["channels"] = 15; }, "layer \"ls\"", "does not match its input's 16 channels"},
    {"layernorm on a flat input", [](json& j) { layer(j, "fc") = json{{"name", "fc"}, {"op", "layernorm2d"}, {"inputs", {"flat"}}, {"channels", 16}}; },
     "layer \"fc\"", "needs an input with channels"},
    {"layernorm channels mismatch", [](json& j) { layer(j, "ln")["channels"] = 8; }, "layer \"ln\"", "does not match"},
    {"layernorm zero eps", [](json& j) { layer(j, "ln")["eps"] = 0; }, "layer \"ln\"", "eps must be positive"},
    {"layernorm missing channels", [](json& j) { layer(j, "ln").erase("channels"); }, "layer \"ln\": field \"channels\"", "is missing"},
    {"shuffle groups do not divide", [](json& j) { layer(j, "shuffle")["groups"] = 3; }, "layer \"shuffle\"", "does not divide"},
    {"shuffle zero groups", [](json& j) { layer(j, "shuffle")["groups"] = 0; }, "layer \"shuffle\"", "groups must be positive"},
    {"slice beyond the channels", [](json& j) { layer(j, "half2")["end"] = 17; }, "layer \"half2\"", "not a non-empty range"},
    {"empty slice", [](json& j) { layer(j, "half2")["start"] = 16; }, "layer \"half2\"", "not a non-empty range"},
    {"negative slice start", [](json& j) { layer(j, "half1")["start"] = -1; }, "layer \"half1\"", "start must not be negative"},
    {"drop_path p above one", [](json& j) { layer(j, "sd")["p"] = 1.5; }, "layer \"sd\"", "within [0, 1]"},
    {"identity with an attribute", [](json& j) { layer(j, "id")["p"] = 0.5; }, "layer \"id\": field \"p\"", "unknown attribute"},
};

INSTANTIATE_TEST_SUITE_P(EveryRule, MalformedNetSpec11, testing::ValuesIn(kBroken),
                         [](const testing::TestParamInfo<Broken>& p) {
                           std::string n = p.param.rule;
                           std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace p4s::modelgen
