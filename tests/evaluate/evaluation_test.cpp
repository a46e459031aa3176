// Held-out evaluation: metrics, levels, leave-one-family-out folds, fitted models, the worst
// predictions and the neighbours reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <armadillo>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "evaluate/evaluation.hpp"
#include "predictors/model_file.hpp"
#include "predictors/p4s/p4s_model.hpp"
#include "predictors/p4s/p4s_predictor.hpp"
#include "predictors/perf4sight/perf4sight_model.hpp"
#include "predictors/perf4sight/perf4sight_predictor.hpp"
#include "results_format/reader.hpp"
#include "sim/network_analysis.hpp"
#include "tests/predictors/synthetic_steps.hpp"

namespace p4s::evaluate {
namespace {

TEST(Evaluation, MetricsOfKnownPredictions) {
  const evaluate::Metrics m = evaluate::metrics_of({110, 90, 100, 150}, {100, 100, 100, 100});
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.mape, 17.5);
  EXPECT_DOUBLE_EQ(m.worst, 50.0);
  EXPECT_DOUBLE_EQ(m.within10, 75.0);
}

TEST(Evaluation, LevelRemovedDividesOutEachNetworksMedianRatio) {
  const std::vector<evaluate::PredictedPoint> points = {
      // a: 1.2 times at every batch size, a level and nothing else
      {"a", "f", 2, 100, 120}, {"a", "f", 4, 200, 240}, {"a", "f", 8, 400, 480},
      // b: ratios 0.9, 1.0, 1.1, median 1.0: 10% off twice, whatever the level
      {"b", "f", 2, 100, 90}, {"b", "f", 4, 100, 100}, {"b", "f", 8, 100, 110},
      // c: two ratios, 1.0 and 1.2, the level their mean
      {"c", "g", 2, 100, 100}, {"c", "g", 4, 100, 120},
      // d: one step, no level to tell from its error
      {"d", "g", 2, 100, 300},
  };
  const evaluate::Metrics m = evaluate::level_removed(points);
  EXPECT_EQ(m.n, 8u);
  const double c = 100.0 * (1.0 - 1.0 / 1.1);  // each of c's two steps, 1.1 being the level
  EXPECT_NEAR(m.mape, (0 + 0 + 0 + 10 + 0 + 10 + c + c) / 8, 1e-9);
  EXPECT_NEAR(m.worst, 10.0, 1e-9);
  EXPECT_EQ(evaluate::level_removed({}).n, 0u);
}

TEST(Evaluation, LeaveOneFamilyOutPredictsEachFamilyFromTheOthers) {
  test::Steps s;
  test::make_synthetic_steps(s);
  evaluate::EvaluationOptions eo;
  eo.baseline = true;
  const evaluate::Evaluation ev = evaluate::evaluate_leave_one_family_out(s.obs, {}, test::cpu_candidates(), eo);
  EXPECT_EQ(ev.families, (std::vector<std::string>{"mnasnet1.0", "mobilenetv2", "resnet18", "squeezenet1.1", "vgg11bn"}));
  ASSERT_EQ(ev.methods.size(), 2u);
  EXPECT_EQ(ev.methods[0].method, predictors::Method::kP4s);
  EXPECT_EQ(ev.methods[1].method, predictors::Method::kPerf4sight);
  const evaluate::TargetEvaluation& alloc = ev.methods[0].targets.at(results::Target::kMemAlloc);
  EXPECT_EQ(alloc.overall.n, s.obs.size());
  EXPECT_EQ(alloc.by_family.size(), 5u);
  // The synthetic mem_alloc is the simulation itself: held out or not, it is exact.
  EXPECT_LT(alloc.overall.worst, 1e-6);
  EXPECT_EQ(alloc.level_removed.n, alloc.overall.n);  // every network measured at several batch sizes
  EXPECT_LT(alloc.level_removed.worst, 1e-6);
  // Each target and family, for both methods, as level_removed of its own points.
  for (const evaluate::MethodEvaluation& me : ev.methods)
    for (const auto& [t, te] : me.targets) {
      EXPECT_EQ(te.level_removed.mape, evaluate::level_removed(te.points).mape) << predictors::method_name(me.method);
      ASSERT_EQ(te.level_removed_by_family.size(), 5u);
      for (const auto& [f, m] : te.level_removed_by_family) {
        std::vector<evaluate::PredictedPoint> mine;
        for (const evaluate::PredictedPoint& p : te.points)
          if (p.family == f) mine.push_back(p);
        EXPECT_EQ(m.mape, evaluate::level_removed(mine).mape) << predictors::method_name(me.method) << " " << f;
        EXPECT_GT(m.n, 0u);
      }
    }
  std::vector<predictors::Observation> one_family;
  for (const predictors::Observation& o : s.obs)
    if (o.family == "resnet18") one_family.push_back(o);
  EXPECT_THROW(evaluate::evaluate_leave_one_family_out(one_family, {}, test::cpu_candidates(), eo), InputError);
}

// Models fitted on the other families predict a family's steps exactly as leave-one-family-out's
// fold for that family does: the same fits, the same predictions, nothing refitted.
TEST(Evaluation, FittedModelsPredictAFamilyAsItsLeaveOneOutFoldDoes) {
  test::Steps s;
  test::make_synthetic_steps(s);
  evaluate::EvaluationOptions eo;
  eo.baseline = true;
  const evaluate::Evaluation lofo = evaluate::evaluate_leave_one_family_out(s.obs, {}, test::cpu_candidates(), eo);
  const std::string held_out = "mobilenetv2";
  std::vector<const predictors::Observation*> train;
  std::vector<predictors::Observation> test;
  for (const predictors::Observation& o : s.obs) {
    if (o.family == held_out) test.push_back(o);
    else train.push_back(&o);
  }
  sim::AnalysisCache cache;
  predictors::ModelFile ours, baseline;
  ours.predictor =
      std::make_shared<predictors::P4sPredictor>(predictors::train_p4s_model(train, {}, test::cpu_candidates(), cache));
  baseline.predictor =
      std::make_shared<predictors::Perf4sightPredictor>(predictors::train_perf4sight_model(train, eo.seed));
  // Given baseline first: the project's method still comes first.
  const evaluate::Evaluation ev = evaluate::evaluate_fitted_models(test, {&baseline, &ours});
  EXPECT_EQ(ev.kind, evaluate::EvaluationKind::kFittedModels);
  EXPECT_EQ(ev.families, std::vector<std::string>{held_out});
  ASSERT_EQ(ev.methods.size(), 2u);
  EXPECT_EQ(ev.methods[0].method, predictors::Method::kP4s);
  EXPECT_EQ(ev.methods[1].method, predictors::Method::kPerf4sight);
  size_t compared = 0;
  for (size_t m = 0; m < 2; ++m)
    for (const auto& [t, te] : lofo.methods[m].targets) {
      std::vector<evaluate::PredictedPoint> fold;
      for (const evaluate::PredictedPoint& p : te.points)
        if (p.family == held_out) fold.push_back(p);
      const evaluate::TargetEvaluation& now = ev.methods[m].targets.at(t);
      ASSERT_EQ(now.points.size(), fold.size()) << results::target_name(t);
      for (size_t i = 0; i < fold.size(); ++i) {
        EXPECT_EQ(now.points[i].net, fold[i].net);
        EXPECT_EQ(now.points[i].batch, fold[i].batch);
        EXPECT_DOUBLE_EQ(now.points[i].predicted, fold[i].predicted) << results::target_name(t) << " " << fold[i].net;
        ++compared;
      }
      EXPECT_DOUBLE_EQ(now.overall.mape, te.by_family.at(held_out).mape) << results::target_name(t);
      EXPECT_DOUBLE_EQ(now.by_family.at(held_out).worst, te.by_family.at(held_out).worst) << results::target_name(t);
    }
  EXPECT_GE(compared, 2 * 3 * test.size());  // both methods, the three targets the data has
  // The measurements' own smoothness is the same reference.
  EXPECT_DOUBLE_EQ(ev.reference.at(results::Target::kMemAlloc).overall.mape,
                   evaluate::neighbour_interpolation(test).at(results::Target::kMemAlloc).overall.mape);

  EXPECT_THROW(evaluate::evaluate_fitted_models(test, {}), InputError);
  EXPECT_THROW(evaluate::evaluate_fitted_models(test, {&ours, &ours}), InputError);
  predictors::ModelFile empty;  // no predictor: a broken precondition, not bad input
  EXPECT_THROW(evaluate::evaluate_fitted_models(test, {&empty}), std::invalid_argument);
}

// The largest held-out errors of the first method, per target, largest first, with the other
// method's prediction of the same step where it has one.
TEST(Evaluation, WorstPredictionsAreTheFirstMethodsLargestErrorsBesideTheOthers) {
  auto point = [](const std::string& net, int64_t batch, double measured, double predicted) {
    evaluate::PredictedPoint p;
    p.net = net;
    p.family = net.substr(0, net.find('_'));
    p.batch = batch;
    p.measured = measured;
    p.predicted = predicted;
    return p;
  };
  evaluate::Evaluation ev;
  ev.families = {"a", "b"};
  evaluate::MethodEvaluation ours{predictors::Method::kP4s, {}, {}};
  ours.targets[results::Target::kLatencyMs].points = {point("a_1", 2, 100, 105), point("b_1", 4, 100, 150),
                                             point("a_2", 8, 200, 100), point("b_2", 2, 100, 90)};
  ours.targets[results::Target::kMemAlloc].points = {point("a_1", 2, 1000, 1010)};
  evaluate::MethodEvaluation baseline{predictors::Method::kPerf4sight, {}, {}};
  baseline.targets[results::Target::kLatencyMs].points = {point("a_2", 8, 200, 210), point("b_1", 4, 100, 60)};
  ev.methods = {ours, baseline};

  const std::vector<evaluate::WorstPrediction> w = evaluate::worst_predictions(ev, 2);
  ASSERT_EQ(w.size(), 3u);  // two for latency; memory has only one point
  EXPECT_EQ(w[0].target, results::Target::kLatencyMs);
  EXPECT_EQ(w[0].method, predictors::Method::kP4s);
  EXPECT_EQ(w[0].point.net, "a_2");  // 50% and 50%: ties go by net name
  EXPECT_EQ(w[0].point.batch, 8);
  EXPECT_DOUBLE_EQ(w[0].error, 50.0);
  EXPECT_DOUBLE_EQ(w[0].others.at(predictors::Method::kPerf4sight), 210.0);
  EXPECT_EQ(w[1].point.net, "b_1");
  EXPECT_DOUBLE_EQ(w[1].error, 50.0);
  EXPECT_DOUBLE_EQ(w[1].others.at(predictors::Method::kPerf4sight), 60.0);
  EXPECT_EQ(w[2].target, results::Target::kMemAlloc);
  EXPECT_NEAR(w[2].error, 1.0, 1e-12);
  EXPECT_TRUE(w[2].others.empty());  // the baseline did not predict mem_alloc here
  EXPECT_TRUE(evaluate::worst_predictions(ev, 0).empty());
  EXPECT_TRUE(evaluate::worst_predictions(evaluate::Evaluation{}, 3).empty());
}

// The reference: each interior step of a network interpolated between its neighbouring batch
// sizes; ends, steps that did not fit, missing values and repeated batch sizes handled.
TEST(Evaluation, NeighbourInterpolationPredictsEachStepFromTheSameNetworksNeighbours) {
  modelgen::NetworkLibrary library;
  const modelgen::ResolvedNet& a = library.get("resnet18_cifar10");
  const modelgen::ResolvedNet& b = library.get("mobilenetv2_cifar10");
  std::vector<predictors::Observation> obs;
  auto step = [&](const modelgen::ResolvedNet& net, int64_t batch, std::optional<double> latency, std::optional<double> alloc,
                  bool fits = true) {
    predictors::Observation o;
    o.net = &net;
    o.family = modelgen::family_of(net.spec.name);
    o.batch = batch;
    o.fits = fits;
    if (fits) {
      o.values.latency_ms = latency;
      o.values.mem_alloc = alloc;
    }
    obs.push_back(o);
  };
  // Given out of order: the interpolation sorts by batch size.
  step(a, 8, 30.0, 800.0);
  step(a, 2, 10.0, 200.0);
  step(a, 4, 26.0, 400.0);   // latency between 10 and 30 at batches 2 and 8: 16.667
  step(a, 4, 99.0, 999.0);   // the same batch again: the first is kept
  step(a, 16, 50.0, std::nullopt);
  step(a, 32, 0.0, 0.0, false);  // did not fit: neither predicted nor a neighbour
  step(b, 2, 5.0, 100.0);        // two steps only: nothing to interpolate
  step(b, 4, 7.0, 150.0);

  const std::map<results::Target, evaluate::TargetEvaluation> r = evaluate::neighbour_interpolation(obs);
  const evaluate::TargetEvaluation& lat = r.at(results::Target::kLatencyMs);
  ASSERT_EQ(lat.points.size(), 2u);  // batches 4 and 8 of resnet18_cifar10
  EXPECT_EQ(lat.points[0].net, "resnet18_cifar10");
  EXPECT_EQ(lat.points[0].family, "resnet18");
  EXPECT_EQ(lat.points[0].batch, 4);
  EXPECT_DOUBLE_EQ(lat.points[0].measured, 26.0);
  EXPECT_NEAR(lat.points[0].predicted, 10.0 + 20.0 * 2.0 / 6.0, 1e-12);
  EXPECT_EQ(lat.points[1].batch, 8);
  EXPECT_DOUBLE_EQ(lat.points[1].predicted, 26.0 + 24.0 * 4.0 / 12.0);  // 34 against 30
  EXPECT_NEAR(lat.overall.mape, 0.5 * (100.0 * (26.0 - 50.0 / 3.0) / 26.0 + 100.0 * 4.0 / 30.0), 1e-9);
  EXPECT_EQ(lat.by_family.size(), 1u);
  // mem_alloc has no value at batch 16: batch 8 is the last, so only batch 4 is predicted.
  const evaluate::TargetEvaluation& alloc = r.at(results::Target::kMemAlloc);
  ASSERT_EQ(alloc.points.size(), 1u);
  EXPECT_DOUBLE_EQ(alloc.points[0].predicted, 400.0);
  EXPECT_DOUBLE_EQ(alloc.overall.mape, 0.0);
  EXPECT_EQ(r.count(results::Target::kMemReserved), 0u);

  // The evaluation carries it beside the methods.
  test::Steps s;
  test::make_synthetic_steps(s);
  evaluate::EvaluationOptions eo;
  eo.baseline = false;
  const evaluate::Evaluation ev = evaluate::evaluate_leave_one_family_out(s.obs, {}, test::cpu_candidates(), eo);
  const evaluate::TargetEvaluation& ref = ev.reference.at(results::Target::kMemAlloc);
  EXPECT_EQ(ref.points.size(), 7u * 2u);  // seven networks at batches 1, 4, 16, 64: two interior each
  EXPECT_EQ(ref.by_family.size(), 5u);
}


TEST(Evaluation, RecipeLabelsGroupStepsByWhatTheyTrainWith) {
  EXPECT_EQ(recipe_label(results::default_recipe()), "default");
  results::Recipe r;
  results::use_optimizer(r, results::Optimizer::kAdam);
  r.train_from = "layer4_0_conv1";
  EXPECT_EQ(recipe_label(r), "opt:adam/from:*");  // any network's own first trainable layer
  r.eps = 1e-6;
  EXPECT_EQ(recipe_label(r), "opt:adam/from:*/eps:1e-06");
  results::Recipe plain;
  plain.momentum = 0;
  plain.weight_decay = 0;
  EXPECT_EQ(recipe_label(plain), "momentum:0/weight_decay:0");  // no name part, but another step
}

// Steps of two recipes: the held-out figures per recipe beside the whole; the neighbours
// reference interpolates each network's steps of one recipe only; steps of one recipe have no
// per-recipe figures.
TEST(Evaluation, LeaveOneFamilyOutPerRecipeWhereTheStepsHaveSeveral) {
  results::Recipe adam;
  results::use_optimizer(adam, results::Optimizer::kAdam);
  const std::vector<std::string> nets{"resnet18_cifar10", "mobilenetv2_cifar10", "squeezenet1.1_cifar10"};
  test::Steps s;
  test::add_simulated_steps(s, nets, {2, 4, 8}, 1.0, 3e6, 0.02, 1.5);
  EvaluationOptions eo;
  eo.baseline = false;
  const Evaluation one = evaluate_leave_one_family_out(s.obs, {}, test::cpu_candidates(), eo);
  EXPECT_TRUE(one.methods[0].targets.at(results::Target::kMemAlloc).by_recipe.empty());
  test::add_simulated_steps(s, nets, {2, 4, 8}, 1.0, 3e6, 0.02, 1.5, adam);
  const Evaluation two = evaluate_leave_one_family_out(s.obs, {}, test::cpu_candidates(), eo);
  const TargetEvaluation& alloc = two.methods[0].targets.at(results::Target::kMemAlloc);
  ASSERT_EQ(alloc.by_recipe.size(), 2u);
  EXPECT_EQ(alloc.by_recipe.at("default").n, 9u);
  EXPECT_EQ(alloc.by_recipe.at("opt:adam").n, 9u);
  EXPECT_LT(alloc.by_recipe.at("opt:adam").mape, 1e-6);  // the simulation, exact here, follows Adam
  // Each network at batch 4, once per recipe: one curve per recipe, not one zigzag.
  const std::map<results::Target, TargetEvaluation> ref = neighbour_interpolation(s.obs);
  EXPECT_EQ(ref.at(results::Target::kMemAlloc).points.size(), 6u);
  EXPECT_EQ(ref.at(results::Target::kMemAlloc).by_recipe.size(), 2u);
}

}  // namespace
}  // namespace p4s::evaluate
