// The project's model on data that is thin, degenerate or at the edges of its units: a single
// measurement, two, every one at one batch size, one target, memory in the terabytes and
// latency in microseconds, steps that only ran out of memory. Every outcome is a model of
// finite numbers or a clear refusal; a model with a NaN is never written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "predictors/capacity.hpp"
#include "predictors/model_file.hpp"
#include "predictors/p4s/p4s_model.hpp"
#include "predictors/p4s/p4s_predictor.hpp"
#include "results_format/reader.hpp"
#include "sim/network_analysis.hpp"
#include "tests/predictors/synthetic_steps.hpp"

namespace p4s::predictors {
namespace {

// The model as a file: every number finite, and it reads back to the same text.
void expect_writable(const P4sModel& p) {
  ModelFile m;
  m.data_digest = "fnv1a64:0000000000000000";
  m.predictor = std::make_shared<P4sPredictor>(p);
  const std::string text = model_to_json(m);
  EXPECT_EQ(model_to_json(parse_model(text, "m.json")), text);
}

void expect_finite_predictions(const P4sModel& m, const test::Steps& d, sim::AnalysisCache& cache) {
  for (const Observation& o : d.obs)
    for (int64_t batch : {int64_t{1}, o.batch, int64_t{4096}})
      for (results::Target t : results::kAllTargets)
        if (const std::optional<double> p = m.predict(cache.get(*o.net, m.runtime), batch, t)) {
          EXPECT_TRUE(std::isfinite(*p)) << results::target_name(t) << " at " << batch;
          EXPECT_GE(*p, 0.0) << results::target_name(t) << " at " << batch;
        }
}

TEST(FitRobustness, OneMeasurementFitsItExactly) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10"}, {8}, 1.0, 3e6, 0.02, 1.5);
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(d.obs), {}, test::cpu_candidates(), cache);
  ASSERT_TRUE(m.has(results::Target::kMemAlloc));
  ASSERT_TRUE(m.has(results::Target::kLatencyMs));
  const sim::NetworkAnalysis& a = cache.get(*d.obs[0].net, m.runtime);
  EXPECT_NEAR(*m.predict(a, 8, results::Target::kMemAlloc), *d.obs[0].values.mem_alloc, 1e-6 * *d.obs[0].values.mem_alloc);
  EXPECT_NEAR(*m.predict(a, 8, results::Target::kLatencyMs), *d.obs[0].values.latency_ms, 1e-6 * *d.obs[0].values.latency_ms);
  EXPECT_FALSE(m.capacity_bytes);
  expect_finite_predictions(m, d, cache);
  expect_writable(m);
}

TEST(FitRobustness, TwoMeasurementsAndAllAtOneBatchSize) {
  for (const auto& [nets, batches] :
       std::vector<std::pair<std::vector<std::string>, std::vector<int64_t>>>{
           {{"resnet18_cifar10"}, {2, 32}},
           {{"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10", "vgg11_cifar10"}, {16}}}) {
    test::Steps d;
    test::add_simulated_steps(d, nets, batches, 1.0, 3e6, 0.02, 1.5);
    sim::AnalysisCache cache;
    const P4sModel m = train_p4s_model(test::pointers(d.obs), {}, test::cpu_candidates(), cache);
    for (const Observation& o : d.obs) {
      const sim::NetworkAnalysis& a = cache.get(*o.net, m.runtime);
      EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kMemAlloc) / *o.values.mem_alloc, 1.0, 1e-6) << o.net->spec.name;
    }
    expect_finite_predictions(m, d, cache);
    expect_writable(m);
  }
}

TEST(FitRobustness, TerabytesAndMicrosecondsFitWithoutLosingPrecision) {
  test::Steps d;
  // Memory of a thousand times the simulated peak plus a terabyte; latency of microseconds.
  test::add_simulated_steps(d, {"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10"}, {1, 4, 16}, 1000.0, 1e12,
             1e-6, 2e-3);
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(d.obs), {}, test::cpu_candidates(), cache);
  for (const Observation& o : d.obs) {
    const sim::NetworkAnalysis& a = cache.get(*o.net, m.runtime);
    EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kMemAlloc) / *o.values.mem_alloc, 1.0, 1e-6);
    EXPECT_NEAR(*m.predict(a, o.batch, results::Target::kLatencyMs) / *o.values.latency_ms, 1.0, 1e-6);
  }
  expect_finite_predictions(m, d, cache);
  expect_writable(m);
}

TEST(FitRobustness, OneTargetAloneGivesAModelOfThatTarget) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10", "squeezenet1.1_cifar10"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  std::vector<Observation> latency_only = d.obs, alloc_only = d.obs;
  for (Observation& o : latency_only) o.values.mem_alloc.reset();
  for (Observation& o : alloc_only) o.values.latency_ms.reset();
  sim::AnalysisCache cache;
  const P4sModel l = train_p4s_model(test::pointers(latency_only), {}, test::cpu_candidates(), cache);
  EXPECT_TRUE(l.has(results::Target::kLatencyMs));
  EXPECT_FALSE(l.has(results::Target::kMemAlloc));
  EXPECT_FALSE(l.capacity_bytes);
  expect_writable(l);
  const P4sModel a = train_p4s_model(test::pointers(alloc_only), {}, test::cpu_candidates(), cache);
  EXPECT_FALSE(a.has(results::Target::kLatencyMs));
  EXPECT_TRUE(a.has(results::Target::kMemAlloc));
  expect_writable(a);
}

TEST(FitRobustness, OnlyOutOfMemoryStepsAreRefusedAndOneOfEachGivesACapacity) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10"}, {8, 64}, 1.0, 3e6, 0.02, 1.5);
  std::vector<Observation> oom = d.obs;
  for (Observation& o : oom) {
    o.fits = false;
    o.values = results::Measured{};
  }
  sim::AnalysisCache cache;
  try {
    train_p4s_model(test::pointers(oom), {}, test::cpu_candidates(), cache);
    ADD_FAILURE() << "fitted on nothing";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nothing to fit"), std::string::npos) << e.what();
  }
  // One step that ran, one that did not: a capacity between them.
  std::vector<Observation> both = {d.obs[0], oom[1]};
  const P4sModel m = train_p4s_model(test::pointers(both), {}, test::cpu_candidates(), cache);
  ASSERT_TRUE(m.capacity_bytes);
  EXPECT_TRUE(std::isfinite(*m.capacity_bytes));
  const sim::NetworkAnalysis& a = cache.get(*d.obs[0].net, m.runtime);
  EXPECT_GT(*m.capacity_bytes, *m.predict(a, 8, m.capacity_target));
  EXPECT_LT(*m.capacity_bytes, *m.predict(a, 64, m.capacity_target));
  expect_writable(m);
}

// ---- a model with a NaN is never written ----

TEST(FitRobustness, AModelWithANonFiniteNumberIsRefusedNamingTheField) {
  test::Steps d;
  test::add_simulated_steps(d, {"resnet18_cifar10"}, {2, 8}, 1.0, 3e6, 0.02, 1.5);
  sim::AnalysisCache cache;
  const P4sModel fitted = train_p4s_model(test::pointers(d.obs), {}, test::cpu_candidates(), cache);
  const std::string path = testing::TempDir() + "/fit_robustness_nan_model.json";
  write_file_atomically(path, "previous");
  for (const auto& [mutate, field] : std::vector<std::pair<std::function<void(P4sModel&)>, std::string>>{
           {[](P4sModel& f) { f.memory[results::Target::kMemAlloc].coefficients(1) = std::nan(""); },
            "model.targets.mem_alloc.coefficients[1]"},
           {[](P4sModel& f) { f.latency->scale = std::numeric_limits<double>::infinity(); },
            "model.targets.latency_ms.scale"},
           {[](P4sModel& f) { f.capacity_bytes = -std::numeric_limits<double>::infinity(); },
            "model.capacity.bytes"}}) {
    P4sModel broken = fitted;
    mutate(broken);
    ModelFile bad;
    bad.data_digest = data_digest(d.obs);
    bad.predictor = std::make_shared<P4sPredictor>(broken);
    try {
      write_model(bad, path);
      ADD_FAILURE() << field << ": written";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), path + ": field \"" + field + "\": not a finite number; a model with NaN or "
                                                                       "Infinity is not written");
    }
    EXPECT_EQ(read_file(path), "previous");
  }
  std::remove(path.c_str());
}

TEST(FitRobustness, CapacityIgnoresPredictionsThatSayNothing) {
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(fit_capacity({{0.0, true}, {0.0, false}}));
  EXPECT_FALSE(fit_capacity({{nan, false}, {5.0, true}}));
  const std::optional<double> c = fit_capacity({{nan, true}, {inf, false}, {4.0, true}, {8.0, false}});
  ASSERT_TRUE(c);
  EXPECT_DOUBLE_EQ(*c, 6.0);
  const std::optional<double> top = fit_capacity({{1e308, false}, {1.7e308, false}});
  if (top) {
    EXPECT_TRUE(std::isfinite(*top) && *top > 0);
  }
}


// One model fitted on steps of three recipes (the default, Adam, SGD from the classifier) predicts
// each recipe's steps, memory and latency alike, since both follow the simulated step; and a
// network it has not seen under a recipe it has.
TEST(FitRobustness, OneModelLearnsFromSeveralRecipesAndPredictsEach) {
  results::Recipe adam;
  results::use_optimizer(adam, results::Optimizer::kAdam);
  results::Recipe late;
  late.train_from = "classifier_1";
  test::Steps d;
  for (const results::Recipe& r : {results::default_recipe(), adam, late})
    test::add_simulated_steps(d, {"mobilenetv2_cifar10_p70_s2", "squeezenet1.1_cifar10"}, {2, 8}, 1.0, 3e6, 0.02, 1.5, r);
  EXPECT_EQ(recipes_of(d.obs).size(), 3u);
  sim::AnalysisCache cache;
  const P4sModel m = train_p4s_model(test::pointers(d.obs), {}, test::cpu_candidates(), cache);
  const P4sPredictor p(m);
  for (const Observation& o : d.obs) {
    EXPECT_NEAR(*p.predict(*o.net, o.batch, results::Target::kMemAlloc, o.recipe) / *o.values.mem_alloc, 1.0, 1e-6)
        << o.net->spec.name << " " << o.recipe.describe();
    EXPECT_NEAR(*p.predict(*o.net, o.batch, results::Target::kLatencyMs, o.recipe) / *o.values.latency_ms, 1.0, 1e-6)
        << o.net->spec.name << " " << o.recipe.describe();
  }
  test::Steps unseen;
  test::add_simulated_steps(unseen, {"mobilenetv2_cifar10"}, {4}, 1.0, 3e6, 0.02, 1.5, adam);
  const Observation& u = unseen.obs.front();
  EXPECT_NEAR(*p.predict(*u.net, 4, results::Target::kMemAlloc, adam) / *u.values.mem_alloc, 1.0, 1e-6);
  // Adam's state: more than the default step; the frozen prefix: less.
  const double sgd = *p.predict(*u.net, 4, results::Target::kMemAlloc);
  EXPECT_GT(*p.predict(*u.net, 4, results::Target::kMemAlloc, adam), sgd);
  EXPECT_LT(*p.predict(*u.net, 4, results::Target::kMemAlloc, late), sgd);
  results::Recipe nowhere;
  nowhere.train_from = "no_such_layer";
  EXPECT_THROW(p.predict(*u.net, 4, results::Target::kMemAlloc, nowhere), InputError);
}

}  // namespace
}  // namespace p4s::predictors
