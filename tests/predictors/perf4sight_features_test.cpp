// perf4sight's features: hand-computed values for small convolutions (every feature of one,
// a selection of another that exercises groups, stride and uneven Winograd tiling), the
// network sum, and sanity on the 39 real TX2 networks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"
#include "predictors/perf4sight/perf4sight_features.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::predictors {
namespace {

using test::kTx2Dir;

using modelgen::NetSpec;
using modelgen::ShapedNet;
using nlohmann::json;

std::size_t index_of(std::string_view name) {
  const auto& names = perf4sight_feature_names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) throw std::out_of_range("no feature named " + std::string(name));
  return static_cast<std::size_t>(it - names.begin());
}

double feature(const arma::vec& f, std::string_view name) { return f[index_of(name)]; }

// log(x) / log(2) as CPython's math.log(x, 2) computes it.
double py_log2(double x) { return std::log(x) / std::log(2.0); }

TEST(Perf4sightFeatures, FiftySixDistinctNames) {
  const auto& names = perf4sight_feature_names();
  EXPECT_EQ(names.size(), 56u);
  EXPECT_EQ(kPerf4sightFeatureCount, 56u);
  const std::set<std::string_view> distinct(names.begin(), names.end());
  EXPECT_EQ(distinct.size(), 56u);
  EXPECT_EQ(names.front(), "tensor-weights");
  EXPECT_EQ(names.back(), "wino-ops-sum-all-3-2");
}

// A 3 -> 8 channel 3x3 conv, padding 1, on an 8x8 input, batch 2: op = 8, effIc = 3.
// Every value worked out by hand from decision_tree_fitter.py's `training`.
TEST(Perf4sightFeatures, SmallConvAllFiftySixByHand) {
  Perf4sightConv c;
  c.batch = 2;
  c.in_channels = 3;
  c.out_channels = 8;
  c.input_size = 8;
  c.kernel = 3;
  c.padding = 1;
  c.stride = 1;
  c.groups = 1;
  EXPECT_EQ(perf4sight_output_size(c), 8);
  const arma::vec f = perf4sight_conv_features(c);
  ASSERT_EQ(f.n_elem, 56u);

  // FFT ops: ip^2 log2(ip) (bs ic + bs oc + oc effIc) + bs oc ic ip^2 = 64*3*46 + 3072.
  const double fft_fwd = 64 * py_log2(8) * 46 + 3072;
  const double fft_bwd_w = 8 * py_log2(64) * 46 + 3072;
  const std::map<std::string, double> expected = {
      {"tensor-weights", 8 * 3 * 9},                // oc effIc k^2
      {"tensor-weight_grad", 2 * 8 * 3 * 9},        // bs oc effIc k^2
      {"tensor-ifm", 2 * 2 * 3 * 64},               // 2 bs ic ip^2
      {"tensor-ofm", 2 * 2 * 8 * 64},               // 2 bs oc op^2
      {"tensors-sum", 216 + 432 + 768 + 2048},
      {"gemm-i2c-idx-fwd", 2 * 64},                 // bs op^2
      {"gemm-i2c-fwd", 2 * 64 * 9 * 3},             // bs op^2 k^2 ic
      {"gemm-i2c-idx-bwd-x", 2 * 64},               // bs ip^2
      {"gemm-i2c-bwd-x", 2 * 64 * 9 * 3},           // bs ip^2 k^2 ic
      {"gemm-i2c-bwd-w", 2 * 64 * 9 * 3},           // bs op^2 k^2 effIc
      {"gemm-i2c-sum-total", 3 * 3456},
      {"gemm-i2c-index-sum-total", 2 * 128 + 128},
      {"gemm-ops-fwd", 2 * 8 * 64 * 9 * 3},         // bs oc op^2 k^2 effIc
      {"gemm-ops-bwd", 2 * 3 * 64 * 9 * 8},         // bs ic ip^2 k^2 oc
      {"gemm-ops-sum", 2 * 27648 + 27648},
      {"fft-weights-fwd", 8 * 9 * 8 * 3},           // ip (1+ip) oc effIc
      {"fft-ifm-fwd", 72 * 2 * 3},                  // ip (1+ip) bs ic
      {"fft-ofm-bwd-w", 72 * 2 * 8},                // ip (1+ip) bs oc
      {"fft-weights-bwd-x", 8 * 9 * 8 * 3},         // op (1+op) oc effIc
      {"fft-ofm-bwd-x", 72 * 2 * 8},                // op (1+op) bs oc
      {"fft-sum-fwd", 432 + 1728},
      {"fft-sum-bwd_x", 1152 + 1728},
      {"fft-sum-bwd_w", 1152 + 432},
      {"fft-sum-all", 432 + 1728 + 1152 + 1728 + 1152 + 432},
      {"fft-fwd-ops", fft_fwd},
      {"fft-bwd_x-ops", fft_fwd},                   // op == ip here
      {"fft-bwd_w-ops", fft_bwd_w},
      {"fft-ops-sum", fft_fwd + fft_fwd + fft_bwd_w},
      // F(4,3): tile 6, ceil(8/4) = 2 tiles per side.
      {"wino-fwd-4-3", 3 * 2 * 8 * 36 * 4},         // 3 bs oc t^2 ceil(ip/m)^2
      {"wino-bwd_x-4-3", 3 * 2 * 3 * 36 * 4},       // 3 bs ic t^2 ceil(op/m)^2
      {"wino-bwd_w-4-3", 3 * 2 * 8 * 3 * 36 * 4},   // 3 bs oc effIc t^2 ceil(ip/m)^2
      {"wino-sum-1-4-3", 6912 + 2592},
      {"wino-sum-2-4-3", 6912 + 20736},
      {"wino-sum-3-4-3", 2592 + 20736},
      {"wino-sum-all-4-3", 6912 + 2592 + 20736},
      // F(3,2): tile 4, ceil(8/3) = 3 tiles per side.
      {"wino-fwd-3-2", 3 * 2 * 8 * 16 * 9},
      {"wino-bwd_x-3-2", 3 * 2 * 3 * 16 * 9},
      {"wino-bwd_w-3-2", 3 * 2 * 8 * 3 * 16 * 9},
      {"wino-sum-1-3-2", 6912 + 2592},
      {"wino-sum-2-3-2", 6912 + 20736},
      {"wino-sum-3-3-2", 2592 + 20736},
      {"wino-sum-all-3-2", 6912 + 2592 + 20736},
      // Winograd ops F(4,3): bs oc effIc ceil(ip/m)^2 ceil(k/r)^2 t^2, etc.
      {"wino-ops-fwd-4-3", 2 * 8 * 3 * 4 * 1 * 36},
      {"wino-ops-bwd_x-4-3", 2 * 3 * 8 * 4 * 1 * 36},   // bs ic oc ceil(op/m)^2 ceil(k/r)^2 t^2
      {"wino-ops-bwd_w-4-3", 2 * 8 * 3 * 4 * 9 * 36},   // ... ceil(op/r)^2 = ceil(8/3)^2 = 9
      {"wino-ops-sum-1-4-3", 6912 + 6912},
      {"wino-ops-sum-2-4-3", 6912 + 62208},
      {"wino-ops-sum-3-4-3", 6912 + 62208},
      {"wino-ops-sum-all-4-3", 6912 + 6912 + 62208},
      // F(3,2): ceil(8/3)^2 = 9, ceil(3/2)^2 = 4, ceil(op/r)^2 = ceil(8/2)^2 = 16.
      {"wino-ops-fwd-3-2", 2 * 8 * 3 * 9 * 4 * 16},
      {"wino-ops-bwd_x-3-2", 2 * 3 * 8 * 9 * 4 * 16},
      {"wino-ops-bwd_w-3-2", 2 * 8 * 3 * 9 * 16 * 16},
      {"wino-ops-sum-1-3-2", 27648 + 27648},
      {"wino-ops-sum-2-3-2", 27648 + 110592},
      {"wino-ops-sum-3-3-2", 27648 + 110592},
      {"wino-ops-sum-all-3-2", 27648 + 27648 + 110592},
  };
  ASSERT_EQ(expected.size(), 56u);
  for (const auto& [name, value] : expected) EXPECT_EQ(feature(f, name), value) << name;
}

// A grouped, strided, unpadded conv on an odd input, batch 4: 6 -> 12 channels in 3 groups
// (effIc = 2), 3x3, stride 2, 11x11 input: op = 1 + floor(8 / 2) = 5.
TEST(Perf4sightFeatures, GroupedStridedConvByHand) {
  Perf4sightConv c;
  c.batch = 4;
  c.in_channels = 6;
  c.out_channels = 12;
  c.input_size = 11;
  c.kernel = 3;
  c.padding = 0;
  c.stride = 2;
  c.groups = 3;
  EXPECT_EQ(perf4sight_output_size(c), 5);
  const arma::vec f = perf4sight_conv_features(c);
  // Tensors.
  EXPECT_EQ(feature(f, "tensor-weights"), 12 * 2 * 9);
  EXPECT_EQ(feature(f, "tensor-weight_grad"), 4 * 12 * 2 * 9);
  EXPECT_EQ(feature(f, "tensor-ifm"), 2 * 4 * 6 * 121);
  EXPECT_EQ(feature(f, "tensor-ofm"), 2 * 4 * 12 * 25);
  // im2col / GEMM: the input side uses all ic, the weight-gradient side effIc.
  EXPECT_EQ(feature(f, "gemm-i2c-fwd"), 4 * 25 * 9 * 6);
  EXPECT_EQ(feature(f, "gemm-i2c-idx-bwd-x"), 4 * 121);
  EXPECT_EQ(feature(f, "gemm-i2c-bwd-x"), 4 * 121 * 9 * 6);
  EXPECT_EQ(feature(f, "gemm-i2c-bwd-w"), 4 * 25 * 9 * 2);
  EXPECT_EQ(feature(f, "gemm-ops-fwd"), 4 * 12 * 25 * 9 * 2);
  EXPECT_EQ(feature(f, "gemm-ops-bwd"), 4 * 6 * 121 * 9 * 12);
  EXPECT_EQ(feature(f, "gemm-ops-sum"), 2 * 21600 + 313632);
  // FFT.
  EXPECT_EQ(feature(f, "fft-weights-fwd"), 11 * 12 * 12 * 2);
  EXPECT_EQ(feature(f, "fft-ofm-bwd-w"), 11 * 12 * 4 * 12);
  EXPECT_EQ(feature(f, "fft-weights-bwd-x"), 5 * 6 * 12 * 2);
  EXPECT_EQ(feature(f, "fft-ofm-bwd-x"), 5 * 6 * 4 * 12);
  const double planes = 4 * 6 + 4 * 12 + 12 * 2;  // 96
  EXPECT_EQ(feature(f, "fft-fwd-ops"), 121 * py_log2(11) * planes + 4 * 12 * 6 * 121);
  EXPECT_EQ(feature(f, "fft-bwd_x-ops"), 25 * py_log2(5) * planes + 4 * 12 * 6 * 25);
  EXPECT_EQ(feature(f, "fft-bwd_w-ops"), 11 * py_log2(121) * planes + 4 * 12 * 6 * 121);
  // Winograd memory: ceil(11/4) = 3, ceil(5/4) = 2, ceil(11/3) = 4, ceil(5/3) = 2.
  EXPECT_EQ(feature(f, "wino-fwd-4-3"), 3 * 4 * 12 * 36 * 9);
  EXPECT_EQ(feature(f, "wino-bwd_x-4-3"), 3 * 4 * 6 * 36 * 4);
  EXPECT_EQ(feature(f, "wino-bwd_w-4-3"), 3 * 4 * 12 * 2 * 36 * 9);
  EXPECT_EQ(feature(f, "wino-fwd-3-2"), 3 * 4 * 12 * 16 * 16);
  EXPECT_EQ(feature(f, "wino-bwd_x-3-2"), 3 * 4 * 6 * 16 * 4);
  EXPECT_EQ(feature(f, "wino-sum-all-3-2"), 36864 + 4608 + 3 * 4 * 12 * 2 * 16 * 16);
  // Winograd ops: ceil(3/3) = 1, ceil(3/2) = 2, ceil(5/3) = 2, ceil(5/2) = 3.
  EXPECT_EQ(feature(f, "wino-ops-fwd-4-3"), 4 * 12 * 2 * 9 * 1 * 36);
  EXPECT_EQ(feature(f, "wino-ops-bwd_x-4-3"), 4 * 6 * 12 * 4 * 1 * 36);
  EXPECT_EQ(feature(f, "wino-ops-bwd_w-4-3"), 4 * 12 * 2 * 9 * 4 * 36);
  EXPECT_EQ(feature(f, "wino-ops-fwd-3-2"), 4 * 12 * 2 * 16 * 4 * 16);
  EXPECT_EQ(feature(f, "wino-ops-bwd_x-3-2"), 4 * 6 * 12 * 4 * 4 * 16);
  EXPECT_EQ(feature(f, "wino-ops-bwd_w-3-2"), 4 * 12 * 2 * 16 * 9 * 16);
}

TEST(Perf4sightFeatures, OutputSizeIgnoresDilationAsTheOriginal) {
  Perf4sightConv c;
  c.batch = 1;
  c.in_channels = c.out_channels = 1;
  c.input_size = 10;
  c.kernel = 3;
  c.padding = 0;
  c.stride = 3;
  EXPECT_EQ(perf4sight_output_size(c), 3);  // 1 + floor(7 / 3)
}

TEST(Perf4sightFeatures, RefusesImpossibleConvs) {
  Perf4sightConv c;
  c.batch = 2;
  c.in_channels = 3;
  c.out_channels = 8;
  c.input_size = 8;
  c.kernel = 3;
  c.padding = 1;
  c.stride = 1;
  Perf4sightConv bad = c;
  bad.batch = 0;
  EXPECT_THROW(perf4sight_conv_features(bad), std::invalid_argument);
  bad = c;
  bad.groups = 2;  // does not divide 3
  EXPECT_THROW(perf4sight_conv_features(bad), std::invalid_argument);
  bad = c;
  bad.kernel = 11;  // does not fit 8 + 2
  EXPECT_THROW(perf4sight_conv_features(bad), std::invalid_argument);
  bad = c;
  bad.padding = -1;
  EXPECT_THROW(perf4sight_conv_features(bad), std::invalid_argument);
  bad = c;
  bad.batch = int64_t{1} << 40;
  bad.in_channels = bad.out_channels = 1 << 20;
  EXPECT_THROW(perf4sight_conv_features(bad), std::overflow_error);
}

// input 3x8x8 -> conv1 (3->8, 3x3, pad 1) -> relu -> maxpool 2 -> conv2 (8->4, 3x3, stride 2,
// pad 1, no bias) -> flatten -> linear.
json two_conv_net() {
  return json::parse(R"({
    "netspec": 1, "name": "two_conv", "classes": 10,
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
      {"name": "conv1", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1, "bias": true},
      {"name": "relu", "op": "relu", "inputs": ["conv1"], "inplace": true},
      {"name": "pool", "op": "maxpool2d", "inputs": ["relu"], "kernel": [2, 2], "stride": [2, 2],
       "padding": [0, 0], "ceil_mode": false},
      {"name": "conv2", "op": "conv2d", "inputs": ["pool"], "in_channels": 8, "out_channels": 4,
       "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "groups": 1, "bias": false},
      {"name": "flatten", "op": "flatten", "inputs": ["conv2"]},
      {"name": "fc", "op": "linear", "inputs": ["flatten"], "in_features": 16, "out_features": 10, "bias": true}
    ],
    "output": "fc"
  })");
}

TEST(Perf4sightFeatures, NetworkIsTheSumOverItsConvs) {
  const NetSpec spec = modelgen::parse_netspec(two_conv_net().dump(), "two_conv.json");
  const ShapedNet shaped = modelgen::infer_shapes(spec);
  const std::vector<Perf4sightConv> convs = perf4sight_convs(spec, shaped, 2);
  ASSERT_EQ(convs.size(), 2u);
  EXPECT_EQ(convs[0].input_size, 8);
  EXPECT_EQ(convs[0].in_channels, 3);
  EXPECT_EQ(convs[0].out_channels, 8);
  EXPECT_EQ(convs[1].input_size, 4);  // after the 2x2 pool
  EXPECT_EQ(convs[1].in_channels, 8);
  EXPECT_EQ(convs[1].out_channels, 4);
  EXPECT_EQ(convs[1].stride, 2);
  EXPECT_EQ(convs[1].padding, 1);
  EXPECT_EQ(convs[1].batch, 2);

  Perf4sightConv second;
  second.batch = 2;
  second.in_channels = 8;
  second.out_channels = 4;
  second.input_size = 4;
  second.kernel = 3;
  second.padding = 1;
  second.stride = 2;
  const arma::vec a = perf4sight_conv_features(convs[0]);
  const arma::vec b = perf4sight_conv_features(second);
  const arma::vec net = perf4sight_features(spec, shaped, 2);
  ASSERT_EQ(net.n_elem, 56u);
  for (std::size_t i = 0; i < 56; ++i) EXPECT_EQ(net[i], a[i] + b[i]) << perf4sight_feature_names()[i];
  // The linear layer contributes nothing: weights are the convs' only.
  EXPECT_EQ(feature(net, "tensor-weights"), 8 * 3 * 9 + 4 * 8 * 9);
}

TEST(Perf4sightFeatures, BatchEntersOnlyThroughTheFormulas) {
  const NetSpec spec = modelgen::parse_netspec(two_conv_net().dump(), "two_conv.json");
  const ShapedNet shaped = modelgen::infer_shapes(spec);
  const arma::vec b2 = perf4sight_features(spec, shaped, 2);
  const arma::vec b6 = perf4sight_features(spec, shaped, 6);
  // Weight-only features do not depend on the batch; per-sample counts scale with it.
  for (const char* name : {"tensor-weights", "fft-weights-fwd", "fft-weights-bwd-x"})
    EXPECT_EQ(feature(b6, name), feature(b2, name)) << name;
  for (const char* name : {"tensor-weight_grad", "tensor-ifm", "gemm-i2c-fwd", "gemm-ops-sum",
                           "fft-ifm-fwd", "wino-fwd-4-3", "wino-ops-sum-all-3-2"})
    EXPECT_EQ(feature(b6, name), 3 * feature(b2, name)) << name;
  EXPECT_THROW(perf4sight_features(spec, shaped, 0), std::invalid_argument);
}

TEST(Perf4sightFeatures, NetworkWithoutConvsIsRefused) {
  const json j = json::parse(R"({
    "netspec": 1, "name": "mlp", "classes": 10,
    "input": {"channels": 3, "height": 4, "width": 4},
    "layers": [
      {"name": "flatten", "op": "flatten", "inputs": ["input"]},
      {"name": "fc", "op": "linear", "inputs": ["flatten"], "in_features": 48, "out_features": 10, "bias": true}
    ],
    "output": "fc"
  })");
  const NetSpec spec = modelgen::parse_netspec(j.dump(), "mlp.json");
  const ShapedNet shaped = modelgen::infer_shapes(spec);
  EXPECT_TRUE(perf4sight_convs(spec, shaped, 2).empty());
  try {
    perf4sight_features(spec, shaped, 2);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("mlp"), std::string::npos) << e.what();
  }
}

TEST(Perf4sightFeaturesTx2, FiniteAndNonNegativeOnAllThirtyNineNetworks) {
  const std::vector<std::string> files = test::tx2_netspec_files();
  ASSERT_EQ(files.size(), 39u);
  for (const std::string& file : files) {
    const NetSpec spec = modelgen::read_netspec(file);
    const ShapedNet shaped = modelgen::infer_shapes(spec, file);
    for (const int64_t batch : {2, 256}) {
      SCOPED_TRACE(file + " batch " + std::to_string(batch));
      const arma::vec f = perf4sight_features(spec, shaped, batch);
      ASSERT_EQ(f.n_elem, 56u);
      EXPECT_TRUE(f.is_finite());
      EXPECT_GE(f.min(), 0.0);
      EXPECT_GT(feature(f, "tensors-sum"), 0.0);
    }
  }
}

TEST(Perf4sightFeaturesTx2, Resnet18WeightsAreItsConvParameters) {
  const NetSpec spec = modelgen::read_netspec(kTx2Dir + "/resnet18_0.json");
  const ShapedNet shaped = modelgen::infer_shapes(spec);
  EXPECT_EQ(perf4sight_convs(spec, shaped, 1).size(), 20u);  // 17 3x3/7x7 convs + 3 downsample
  const arma::vec f = perf4sight_features(spec, shaped, 32);
  // torchvision's 11,689,512 parameters less the fc (512*1000 + 1000) and BN (2 * 4800).
  EXPECT_EQ(feature(f, "tensor-weights"), 11'689'512 - 513'000 - 9'600);
  EXPECT_EQ(feature(f, "tensor-weight_grad"), 32 * feature(f, "tensor-weights"));
}

// Reference values from the original Python function on the same conv descriptions: every
// feature must agree bit for bit (the formulas mirror Python's integer/float evaluation).
TEST(Perf4sightFeaturesTx2, MatchTheOriginalPythonBitForBit) {
  std::ifstream in(std::string(P4S_SOURCE_DIR) + "/tests/predictors/perf4sight_reference.json");
  ASSERT_TRUE(in) << "missing tests/predictors/perf4sight_reference.json";
  const json reference = json::parse(in);
  ASSERT_EQ(reference["cases"].size(), 6u);
  for (const json& c : reference["cases"]) {
    const std::string net = c["net"];
    const int64_t batch = c["batch"];
    SCOPED_TRACE(net + " batch " + std::to_string(batch));
    const NetSpec spec = modelgen::read_netspec(kTx2Dir + "/" + net + ".json");
    const ShapedNet shaped = modelgen::infer_shapes(spec);
    EXPECT_EQ(perf4sight_convs(spec, shaped, batch).size(), c["convs"].get<std::size_t>());
    const arma::vec f = perf4sight_features(spec, shaped, batch);
    ASSERT_EQ(c["features"].size(), 56u);
    for (std::size_t i = 0; i < 56; ++i)
      EXPECT_EQ(f[i], c["features"][i].get<double>()) << perf4sight_feature_names()[i];
  }
}

}  // namespace
}  // namespace p4s::predictors
