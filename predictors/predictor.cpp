#include "predictors/predictor.hpp"

#include <nlohmann/json.hpp>

#include "predictors/p4s/p4s_predictor.hpp"
#include "predictors/perf4sight/perf4sight_predictor.hpp"

namespace p4s::predictors {

const char* method_name(Method m) {
  switch (m) {
    case Method::kP4s: return "p4s";
    case Method::kPerf4sight: return "perf4sight";
  }
  return "?";
}

std::optional<Method> method_from_name(std::string_view name) {
  for (Method m : kMethods)
    if (name == method_name(m)) return m;
  return std::nullopt;
}

std::optional<double> Predictor::demand_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                             const results::Recipe& recipe) const {
  return predict_step(net, batch, t, recipe);
}

std::optional<double> Predictor::ceiling(results::Target) const { return std::nullopt; }

const sim::DeviceRuntime* Predictor::runtime() const { return nullptr; }

std::vector<results::Target> Predictor::targets() const {
  std::vector<results::Target> out;
  for (results::Target t : results::kAllTargets)
    if (has(t)) out.push_back(t);
  return out;
}

std::unique_ptr<Predictor> train_predictor(Method method, const TrainingSet& data) {
  switch (method) {
    case Method::kP4s: {
      sim::AnalysisCache own;
      return std::make_unique<P4sPredictor>(
          train_p4s_model(data.steps, data.layer_cases, data.runtimes, data.cache ? *data.cache : own), data.cache);
    }
    case Method::kPerf4sight: return std::make_unique<Perf4sightPredictor>(train_perf4sight_model(data.steps, data.seed));
  }
  throw std::invalid_argument("train_predictor: unknown method");
}

std::unique_ptr<Predictor> predictor_from_json(Method method, const nlohmann::json& j, const ModelFormatVersion& version) {
  switch (method) {
    case Method::kP4s: return std::make_unique<P4sPredictor>(P4sModel::from_json(j, version));
    case Method::kPerf4sight: return std::make_unique<Perf4sightPredictor>(Perf4sightModel::from_json(j));
  }
  throw std::invalid_argument("predictor_from_json: unknown method");
}

}  // namespace p4s::predictors
