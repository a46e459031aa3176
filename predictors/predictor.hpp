// A fitted predictor of training steps, whichever method made it: the one interface that
// fitting, prediction, evaluation and model files use. Each method (p4s/, perf4sight/) trains
// from observations, predicts a network at a batch size, and reads and writes its JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "modelgen/network_library.hpp"
#include "predictors/model_format.hpp"
#include "predictors/observations.hpp"
#include "results_format/format.hpp"
#include "results_format/measurements.hpp"
#include "results_format/recipe.hpp"
#include "sim/device_runtime.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::predictors {

// The methods, in the order reports show them: the project's own first.
enum class Method { kP4s, kPerf4sight };
inline constexpr Method kMethods[] = {Method::kP4s, Method::kPerf4sight};
// "p4s", "perf4sight": the names in model files, reports and `p4s fit --method`.
const char* method_name(Method m);
std::optional<Method> method_from_name(std::string_view name);

// Fits / does not fit: a step fits when its predicted demand of `target` is at most `bytes`.
struct Capacity {
  double bytes = 0;
  results::Target target = results::Target::kMemAlloc;
};

class Predictor {
 public:
  virtual ~Predictor() = default;

  virtual Method method() const = 0;
  virtual bool has(results::Target t) const = 0;
  // The predicted figure of a training step of `net` at `batch` trained by `recipe` (bytes, or
  // milliseconds for latency); nullopt for a target the predictor was not fitted on.
  // Preconditions: batch >= 1 and within sim::max_predictable_batch(net.shapes). Throws
  // InputError for a recipe the predictor cannot follow (follows_recipes(); a train_from no
  // layer of `net` has; a precision the simulation does not cover). Not thread-safe: a
  // predictor may keep what it computed of a network for the next prediction (keyed by the
  // object's address, so `net` must outlive the predictor or not be reused for another
  // network).
  std::optional<double> predict(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                const results::Recipe& recipe = results::default_recipe()) const {
    return predict_step(net, batch, t, recipe);
  }
  // What the step asks of a memory target, past the most the device reports (ceiling()): what
  // fits / does not fit and memory budgets compare. predict's value where there is no ceiling.
  std::optional<double> demand(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                               const results::Recipe& recipe = results::default_recipe()) const {
    return demand_step(net, batch, t, recipe);
  }
  // Whether predictions follow the recipe asked for: the project's method simulates each
  // recipe's step; perf4sight's features know none, and predict the steps of its data's.
  virtual bool follows_recipes() const = 0;
  // The most of a target the device reports however much a step asks (a full Jetson), where
  // the data showed one; predictions stop there.
  virtual std::optional<double> ceiling(results::Target t) const;
  // Learned from the steps that ran out of memory; absent without them.
  virtual std::optional<Capacity> capacity() const = 0;
  // The device runtime whose training step the predictor simulates; null for a method that
  // simulates none.
  virtual const sim::DeviceRuntime* runtime() const;

  // The method's parameters as its model file holds them ("model"), and what they say, one
  // Markdown line each, for reports.
  virtual nlohmann::json to_json() const = 0;
  virtual std::vector<std::string> describe() const = 0;

  // The targets predicted, in kAllTargets order.
  std::vector<results::Target> targets() const;

 protected:
  virtual std::optional<double> predict_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                             const results::Recipe& recipe) const = 0;
  virtual std::optional<double> demand_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                            const results::Recipe& recipe) const;
};

// What a method is fitted on.
struct TrainingSet {
  std::vector<const Observation*> steps;  // network cases, ran or out of memory
  std::vector<results::LayerResult> layer_cases;  // may be empty
  std::vector<sim::DeviceRuntime> runtimes;       // the candidates (runtime_candidates.hpp)
  uint64_t seed = 1;                              // a method's random choices (the baseline's trees)
  // Network analyses to reuse across fits (several folds, several runtimes) and by the
  // predictor trained; may be null. It must outlive the predictor.
  sim::AnalysisCache* cache = nullptr;
};

// Fits `method` on `data`. Throws InputError when there is nothing to fit.
std::unique_ptr<Predictor> train_predictor(Method method, const TrainingSet& data);

// Reads a method's parameters (a model file's "model" object) as a file of `version` wrote
// them (model_format.hpp). Throws InputError naming the field.
std::unique_ptr<Predictor> predictor_from_json(Method method, const nlohmann::json& j,
                                               const ModelFormatVersion& version);

}  // namespace p4s::predictors
