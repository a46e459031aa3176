// A held-out fold leaves out the layer cases whose layer occurs in a held-out network.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "evaluate/evaluation.hpp"
#include "evaluate/held_out_layers.hpp"
#include "modelgen/network_library.hpp"
#include "tests/predictors/synthetic_steps.hpp"

namespace p4s::evaluate {
namespace {

results::LayerResult layer_case(const std::string& kind, std::map<std::string, int64_t> args) {
  results::LayerResult r;
  r.kind = kind;
  r.args = std::move(args);
  r.values.latency_ms = 1.0;
  r.runs = 1;
  return r;
}

bool contains(const std::vector<results::CaseShape>& shapes, const results::CaseShape& s) {
  return std::any_of(shapes.begin(), shapes.end(), [&](const results::CaseShape& x) {
    return x.index() == s.index() && results::case_args(x, 1) == results::case_args(s, 1);
  });
}

TEST(HeldOutLayers, ANetworksLayersAsLayerCaseShapes) {
  modelgen::NetworkLibrary library;
  const std::vector<results::CaseShape> r18 = layer_case_shapes(library.get("resnet18"));
  EXPECT_TRUE(contains(r18, results::Conv2dShape{3, 64, 7, 2, 1, 224}));    // conv1
  EXPECT_TRUE(contains(r18, results::Conv2dShape{64, 64, 3, 1, 1, 56}));    // layer1
  EXPECT_TRUE(contains(r18, results::Conv2dShape{64, 128, 1, 2, 1, 56}));   // downsample
  EXPECT_TRUE(contains(r18, results::BatchNorm2dShape{64, 112}));           // bn1
  EXPECT_TRUE(contains(r18, results::LinearShape{512, 1000}));              // fc
  EXPECT_FALSE(contains(r18, results::Conv2dShape{64, 64, 3, 1, 1, 28}));   // no such layer
  const std::vector<results::CaseShape> mb = layer_case_shapes(library.get("mobilenetv2"));
  EXPECT_TRUE(contains(mb, results::Conv2dShape{32, 32, 3, 1, 32, 112}));   // depthwise
}

TEST(HeldOutLayers, CasesOfAHeldOutNetworksShapesAreLeftOut) {
  modelgen::NetworkLibrary library;
  const std::vector<results::LayerResult> cases = {
      layer_case("Conv2d", {{"cin", 3}, {"cout", 64}, {"k", 7}, {"s", 2}, {"g", 1}, {"hw", 224}, {"bs", 8}}),
      layer_case("Conv2d", {{"cin", 32}, {"cout", 32}, {"k", 3}, {"s", 1}, {"g", 32}, {"hw", 112}, {"bs", 8}}),
      layer_case("Linear", {{"in", 512}, {"out", 1000}, {"bs", 1}}),
      layer_case("BatchNorm2d", {{"c", 64}, {"hw", 112}, {"bs", 32}}),
      layer_case("Pool2d", {{"k", 2}, {"bs", 1}}),  // no kind of the format's: kept
  };
  const std::vector<results::LayerResult> kept = layer_cases_outside(cases, {&library.get("resnet18")});
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].args.at("g"), 32);  // mobilenetv2's depthwise layer
  EXPECT_EQ(kept[1].kind, "Pool2d");
  EXPECT_EQ(layer_cases_outside(cases, {}).size(), cases.size());
}

// Leave-one-family-out gives each fold the layer cases outside its held-out family, and says
// how many it left out.
TEST(HeldOutLayers, EachFoldLeavesOutItsFamilysShapes) {
  test::Steps s;
  test::make_synthetic_steps(s);
  // The stem of resnet18_cifar10 and of squeezenet1.1_cifar10 (3 -> 64, 3x3, stride 1, 32x32)
  // and of none of the others, and one shape of no network.
  std::vector<results::LayerResult> cases;
  for (int64_t bs : {1, 4, 16, 64}) {
    cases.push_back(layer_case("Conv2d", {{"cin", 3}, {"cout", 64}, {"k", 3}, {"s", 1}, {"g", 1}, {"hw", 32}, {"bs", bs}}));
    cases.push_back(layer_case("Conv2d", {{"cin", 5}, {"cout", 7}, {"k", 3}, {"s", 1}, {"g", 1}, {"hw", 9}, {"bs", bs}}));
  }
  EvaluationOptions eo;
  eo.baseline = false;
  const Evaluation ev = evaluate_leave_one_family_out(s.obs, cases, test::cpu_candidates(), eo);
  EXPECT_EQ(ev.layer_cases, cases.size());
  ASSERT_EQ(ev.layer_cases_left_out.size(), ev.families.size());
  for (const auto& [family, n] : ev.layer_cases_left_out)
    EXPECT_EQ(n, family == "resnet18" || family == "squeezenet1.1" ? 4u : 0u) << family;
}

}  // namespace
}  // namespace p4s::evaluate
