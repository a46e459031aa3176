// Model files: round trips, deterministic bytes, digests, and refusals.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "predictors/model_file.hpp"
#include "predictors/p4s/runtime_candidates.hpp"
#include "predictors/p4s/p4s_predictor.hpp"
#include "predictors/recipe_coverage.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::predictors {
namespace {

const std::string& kTx2 = test::kTx2Results;

struct Fitted {
  modelgen::NetworkLibrary library{{kTx2 + "/netspecs"}};
  results::ResultSet results = results::read_results({kTx2 + "/results.json"});
  std::vector<Observation> obs = make_observations(results, library);
};

ModelFile fit_model(Fitted& f) {
  std::vector<const Observation*> all;
  for (const Observation& o : f.obs) all.push_back(&o);
  sim::AnalysisCache cache;
  ModelFile m;
  m.data_digest = data_digest(f.obs);
  m.measurements = f.obs.size();
  m.families = families_of(f.obs);
  m.device = f.results.context;
  m.predictor = std::make_shared<P4sPredictor>(train_p4s_model(all, f.results.layers, candidate_runtimes(f.results), cache));
  return m;
}

TEST(ModelFile, RoundTripsAndIsDeterministic) {
  Fitted f;
  const ModelFile m = fit_model(f);
  const std::string text = model_to_json(m);
  EXPECT_EQ(model_to_json(fit_model(f)), text);
  const ModelFile back = parse_model(text, "m.json");
  EXPECT_EQ(model_to_json(back), text);
  EXPECT_EQ(back.targets(), (std::vector<results::Target>{results::Target::kLatencyMs, results::Target::kMemAlloc, results::Target::kMemReserved, results::Target::kMemUsed}));
  const std::string path = testing::TempDir() + "/model_file_test.json";
  write_model(m, path);
  EXPECT_EQ(model_to_json(read_model(path)), text);
}

TEST(ModelFile, DigestFollowsTheData) {
  Fitted f;
  const std::string d = data_digest(f.obs);
  EXPECT_EQ(d.rfind("fnv1a64:", 0), 0u);
  EXPECT_EQ(d.size(), 8u + 16u);
  std::vector<Observation> reversed(f.obs.rbegin(), f.obs.rend());
  EXPECT_EQ(data_digest(reversed), d);  // order does not matter
  f.obs[3].values.latency_ms = *f.obs[3].values.latency_ms + 1;
  EXPECT_NE(data_digest(f.obs), d);
}

// Files written before major.minor (format version 1, an integer) list a prefix of today's
// latency coefficients; they read, and are written back in the current version with the
// coefficients they lacked standing in as when they were written.
TEST(ModelFile, ReadsFilesOfFormatVersionOne) {
  Fitted f;
  const ModelFile m = fit_model(f);
  nlohmann::json old = nlohmann::json::parse(model_to_json(m));
  old["format"]["version"] = 1;
  nlohmann::json& lat = old["model"]["targets"]["latency_ms"];
  lat["coefficient_names"].erase(12);  // per_transcendental_ms: 0
  lat["coefficients"].erase(12);
  lat["coefficient_names"].erase(11);  // per_generic_depthwise_flop_ms: as per_depthwise_flop_ms
  lat["coefficients"].erase(11);
  const ModelFile read = parse_model(old.dump(), "old.json");
  EXPECT_EQ(read.version.text(), "1");
  const nlohmann::json back = nlohmann::json::parse(model_to_json(read));
  EXPECT_EQ(back["format"]["version"], "2.2");
  const nlohmann::json& coefficients = back["model"]["targets"]["latency_ms"]["coefficients"];
  ASSERT_EQ(coefficients.size(), 13u);
  EXPECT_EQ(coefficients[11], coefficients[7]);
  EXPECT_EQ(coefficients[12], 0.0);
  EXPECT_EQ(parse_model(old.dump(), "old.json").targets(), m.targets());
}

TEST(ModelFile, RefusesWhatItCannotUse) {
  Fitted f;
  const nlohmann::json good = nlohmann::json::parse(model_to_json(fit_model(f)));
  auto refuse = [&](const std::function<void(nlohmann::json&)>& breaks, const std::string& part) {
    nlohmann::json j = good;
    breaks(j);
    try {
      parse_model(j.dump(), "bad.json");
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("bad.json: ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refuse([](nlohmann::json& j) { j["format"]["version"] = "2.3"; }, "version 2.3 is newer than this reader understands (2.2)");
  refuse(
      [](nlohmann::json& j) {
        j["format"]["version"] = "2.0";
        j["model"]["targets"]["latency_ms"]["coefficient_names"].erase(12);
        j["model"]["targets"]["latency_ms"]["coefficients"].erase(12);
        j["fitted_on"]["recipes"] = nlohmann::json::array({{{"optimizer", "adam"}}});
      },
      "field \"fitted_on.recipes\": is not part of format version 2.0 (2.1 on)");
  refuse(
      [](nlohmann::json& j) {
        j["format"]["version"] = "2.1";
        j["fitted_on"]["recipes"] = nlohmann::json::array({{{"optimizer", "lamb"}}});
      },
      "field \"fitted_on.recipes[0]\": field \"optimizer\": \"lamb\" is not sgd, sgd-nesterov, adam or adamw");
  refuse(
      [](nlohmann::json& j) {
        j["format"]["version"] = "2.1";
        j["fitted_on"]["recipes"] = nlohmann::json::array();
      },
      "field \"fitted_on.recipes\": must be a non-empty list");
  refuse([](nlohmann::json& j) { j["format"]["version"] = "3.0"; }, "version 3.0 is newer than this reader");
  refuse([](nlohmann::json& j) { j["format"]["version"] = 2; }, "unknown version 2");
  refuse([](nlohmann::json& j) { j["format"]["version"] = "0.4"; }, "unknown version 0.4");
  refuse([](nlohmann::json& j) { j["format"]["version"] = "2"; }, "\"2\" is not \"major.minor\"");
  refuse([](nlohmann::json& j) { j["format"]["version"] = "2.x"; }, "\"2.x\" is not \"major.minor\"");
  refuse([](nlohmann::json& j) { j["format"].erase("version"); }, "format.version");
  // A file of this minor version lists every coefficient it has; one it lacks is a broken file.
  refuse(
      [](nlohmann::json& j) {
        j["model"]["targets"]["latency_ms"]["coefficient_names"].erase(12);
        j["model"]["targets"]["latency_ms"]["coefficients"].erase(12);
      },
      "coefficient names differ from those of format version 2.2");
  refuse([](nlohmann::json& j) { j["format"]["name"] = "other"; }, "format.name");
  refuse([](nlohmann::json& j) { j.erase("format"); }, "not a p4s model file");
  refuse([](nlohmann::json& j) { j["method"] = "guess"; }, "method");
  refuse([](nlohmann::json& j) { j.erase("model"); }, "model");
  refuse([](nlohmann::json& j) { j["model"]["targets"] = nlohmann::json::object(); j["model"].erase("capacity"); },
         "fits no target");
  refuse([](nlohmann::json& j) { j["fitted_on"].erase("digest"); }, "fitted_on");
  // Numbers that would convert with undefined behaviour or wrap (model_file_fuzzer).
  refuse([](nlohmann::json& j) { j["fitted_on"]["measurements"] = 1e308; }, "fitted_on.measurements");
  refuse([](nlohmann::json& j) { j["fitted_on"]["measurements"] = -3; }, "fitted_on.measurements");
  refuse([](nlohmann::json& j) { j["fitted_on"]["measurements"] = 2.5; }, "fitted_on.measurements");
  sim::DeviceRuntime cpu;
  cpu.kind = sim::DeviceKind::kCpu;
  for (const char* field : {"cpu_channel_block", "cpu_threads"})
    for (const nlohmann::json& v : {nlohmann::json(1e308), nlohmann::json(4294967312ULL), nlohmann::json(-4294967296LL),
                                    nlohmann::json(16.5)})
      refuse(
          [&](nlohmann::json& j) {
            j["model"]["runtime"] = cpu.to_json();
            j["model"]["runtime"][field] = v;
          },
          std::string(field) + "\" must be an integer");
  EXPECT_THROW(parse_model("{", "bad.json"), InputError);
  EXPECT_THROW(read_model("/nonexistent/model.json"), InputError);
}


// A model fitted on steps of several recipes lists them (from format 2.1) and reads them back;
// one fitted on default-recipe steps alone lists none.
TEST(ModelFile, ListsTheRecipesOfItsDataFromFormat21) {
  Fitted f;
  ModelFile m = fit_model(f);
  EXPECT_EQ(format_for(m).text(), "2.2");
  EXPECT_FALSE(nlohmann::json::parse(model_to_json(m))["fitted_on"].contains("recipes"));
  results::Recipe adam;
  results::use_optimizer(adam, results::Optimizer::kAdamW);
  adam.train_from = "layer4_0_conv1";
  adam.freeze_bn = true;
  m.recipes = {results::default_recipe(), adam};
  const std::string text = model_to_json(m);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["format"]["version"], "2.2");
  ASSERT_EQ(j["fitted_on"]["recipes"].size(), 2u);
  EXPECT_EQ(j["fitted_on"]["recipes"][1]["optimizer"], "adamw");
  const ModelFile back = parse_model(text, "recipes.json");
  EXPECT_EQ(back.version.text(), "2.2");
  ASSERT_EQ(back.recipes.size(), 2u);
  EXPECT_EQ(back.recipes[1], adam);
  EXPECT_EQ(model_to_json(back), text);
}


// A prediction extrapolates what no step of the model's data had: an optimizer, a frozen
// prefix, batch norms in eval mode; a recipe the data had, or its parts, nothing.
TEST(RecipeCoverage, WarnsOfWhatTheDataDidNotHave) {
  Fitted f;
  ModelFile m = fit_model(f);
  results::Recipe adam;
  results::use_optimizer(adam, results::Optimizer::kAdam);
  EXPECT_TRUE(recipe_coverage(m, results::default_recipe()).warnings.empty());
  EXPECT_EQ(recipe_coverage(m, adam).warnings.size(), 1u);
  results::Recipe late;
  late.train_from = "layer4_0_conv1";
  m.recipes = {results::default_recipe(), adam, late};
  EXPECT_TRUE(recipe_coverage(m, adam).warnings.empty());
  results::Recipe adam_late = adam;
  adam_late.train_from = "fc";  // Adam and a frozen prefix were each in the data
  EXPECT_TRUE(recipe_coverage(m, adam_late).warnings.empty());
  adam_late.freeze_bn = true;
  EXPECT_EQ(recipe_coverage(m, adam_late).warnings.size(), 1u);
  results::Recipe adamw;
  results::use_optimizer(adamw, results::Optimizer::kAdamW);
  const RecipeCoverage c = recipe_coverage(m, adamw);
  EXPECT_TRUE(c.refusal.empty());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("adamw"), std::string::npos);
  // An autocast step: its latency is always said to follow the float32 terms; its precision
  // only where the data had none of it.
  results::Recipe bf16;
  bf16.precision = results::Precision::kBf16;
  const RecipeCoverage half = recipe_coverage(m, bf16);
  ASSERT_EQ(half.warnings.size(), 2u);
  EXPECT_NE(half.warnings[0].find("float32 kernels' fitted rates"), std::string::npos);
  EXPECT_NE(half.warnings[1].find("under bf16 autocast"), std::string::npos);
  m.recipes.push_back(bf16);
  EXPECT_EQ(recipe_coverage(m, bf16).warnings.size(), 1u);
}

}  // namespace
}  // namespace p4s::predictors
