// How well predictors do on networks they were not fitted on, per target and per family, the
// project's method beside the perf4sight baseline, and how well each tells the steps that fit
// in memory from those that did not. Two ways: leave one family out (fit on every other family,
// predict the held-out one, for each family in turn), or models fitted beforehand predicting
// measurements they were not fitted on (networks measured later, other families).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "predictors/model_file.hpp"
#include "predictors/observations.hpp"
#include "results_format/measurements.hpp"
#include "sim/device_runtime.hpp"

namespace p4s::evaluate {

struct Metrics {
  size_t n = 0;
  double mape = 0;      // mean absolute percentage error, in percent
  double worst = 0;     // largest absolute percentage error, in percent
  double within10 = 0;  // share of predictions within 10% of the measurement, in percent
  double r2 = 0;        // coefficient of determination
};

// Metrics of predictions against measurements (same length, measurements > 0).
Metrics metrics_of(const std::vector<double>& predicted, const std::vector<double>& measured);

struct PredictedPoint {
  std::string net;
  std::string family;
  int64_t batch = 0;
  double measured = 0;
  double predicted = 0;
  std::string recipe = "default";  // recipe_label of the step's recipe
};

// A recipe as reports group steps by it: "default", else its name parts where they differ from
// the default, any first trainable layer as "from:*" (each network has its own), then the
// optimizer's settings where they are not its usual ones: "opt:adam/from:*",
// "momentum:0/weight_decay:0".
std::string recipe_label(const results::Recipe& r);

// Each network's predictions divided by their median ratio to its measurements (the mean of
// the middle two for an even count; a network trained by two recipes counts as two), for the
// networks predicted at two batch sizes or more: the
// error left is in how the predictions follow the batch size; the rest of a method's error is a
// level per network, the same at every batch size (a network predicted too large as a whole).
// Which of the two dominates says where a predictor is wrong: in what it knows of a network, or
// in how a step grows with the batch.
Metrics level_removed(const std::vector<PredictedPoint>& points);

struct TargetEvaluation {
  Metrics overall;
  std::map<std::string, Metrics> by_family;  // the held-out family's predictions
  // The same with each network's level removed (level_removed): the error in how predictions
  // follow the batch size.
  Metrics level_removed;
  std::map<std::string, Metrics> level_removed_by_family;
  // By recipe_label, where the predictions are of steps of more than one recipe; else empty.
  std::map<std::string, Metrics> by_recipe;
  std::vector<PredictedPoint> points;
};

struct FitsEvaluation {
  size_t n = 0;        // steps with a fits / does-not-fit verdict
  size_t correct = 0;
  size_t missed_oom = 0;    // predicted to fit, ran out of memory
  size_t false_oom = 0;     // predicted not to fit, ran
  double accuracy() const { return n ? 100.0 * static_cast<double>(correct) / static_cast<double>(n) : 0; }
};

struct MethodEvaluation {
  predictors::Method method = predictors::Method::kP4s;
  std::map<results::Target, TargetEvaluation> targets;
  FitsEvaluation fits;
};

enum class EvaluationKind {
  kLeaveOneFamilyOut,  // evaluate_leave_one_family_out
  kFittedModels,       // evaluate_fitted_models
};

struct Evaluation {
  EvaluationKind kind = EvaluationKind::kLeaveOneFamilyOut;
  std::vector<std::string> families;
  std::vector<MethodEvaluation> methods;  // the project's method first
  // The measurements' own smoothness in the batch size (neighbour_interpolation): the
  // reference the methods' errors are read against.
  std::map<results::Target, TargetEvaluation> reference;
  // Held-out families whose fold could not be fitted (the other families have nothing to
  // fit, e.g. only out-of-memory steps), with the reason; their predictions are missing.
  std::map<std::string, std::string> not_evaluated;
  // Leave-one-family-out with layer cases: how many there were, and per held-out family how
  // many its fold left out for sharing a layer's shape with one of the family's networks.
  size_t layer_cases = 0;
  std::map<std::string, size_t> layer_cases_left_out;
};

// A held-out prediction far from its measurement, beside the other methods' predictions of the
// same step: where a predictor fails, for people reading a report.
struct WorstPrediction {
  results::Target target = results::Target::kLatencyMs;
  predictors::Method method = predictors::Method::kP4s;  // whose prediction `point` is: the first method's
  PredictedPoint point;
  double error = 0;        // |predicted - measured| / measured, in percent
  std::map<predictors::Method, double> others;  // each other method's prediction of the step, where it has one
};

// Per target, the `per_target` held-out predictions of the evaluation's first method furthest
// from their measurements, largest first (ties: by net, then batch), targets in kAllTargets order.
std::vector<WorstPrediction> worst_predictions(const Evaluation& ev, size_t per_target);

// How far the measurements stray from a smooth curve in the batch size: each step of a network
// measured at a smaller and at a larger batch size is "predicted" by linear interpolation
// between the nearest two (by_family: the network's family). It has seen the network itself,
// so it is no predictor; its error is what run-to-run noise, allocator steps and algorithm
// switches cost any predictor that is smooth in the batch size, a reference for the methods'
// held-out errors. Steps that did not fit, and a network's smallest and largest batch, are
// not predicted; where one network has a batch size twice, the first is kept. A network trained
// by two recipes is two curves.
std::map<results::Target, TargetEvaluation> neighbour_interpolation(const std::vector<predictors::Observation>& observations);

struct EvaluationOptions {
  bool baseline = true;  // also evaluate the perf4sight baseline
  uint64_t seed = 1;     // the baseline's trees
};

// Leave-one-family-out over the network cases. The layer cases (may be empty) are part of
// every fold's fit but those whose shape occurs in a held-out network (held_out_layers.hpp).
// Throws InputError with fewer than two families.
// A fold that cannot be fitted is listed in not_evaluated, and the others go on.
Evaluation evaluate_leave_one_family_out(const std::vector<predictors::Observation>& observations,
                                         const std::vector<results::LayerResult>& layer_cases,
                                         const std::vector<sim::DeviceRuntime>& candidates,
                                         const EvaluationOptions& options = {});

// Models fitted beforehand (model files; at most one per method, the project's first where
// both are given) predict every step of `observations`, per target and per family of the
// observations; each tells the steps that fit from those that did not. Nothing is fitted, so
// the figures are held-out ones only for networks the models were not fitted on: the caller
// compares the models' families with the observations'. Throws InputError for no
// model, a model file without its method's parameters, or two models of one method.
Evaluation evaluate_fitted_models(const std::vector<predictors::Observation>& observations,
                                  const std::vector<const predictors::ModelFile*>& models);

}  // namespace p4s::evaluate
