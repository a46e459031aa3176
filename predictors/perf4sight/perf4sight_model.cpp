#include "predictors/perf4sight/perf4sight_model.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/input_error.hpp"
#include "predictors/capacity.hpp"
#include "predictors/perf4sight/perf4sight_features.hpp"

namespace p4s::predictors {

std::optional<double> Perf4sightModel::predict(const modelgen::ResolvedNet& net, int64_t batch, results::Target t) const {
  auto it = forests.find(t);
  if (it == forests.end()) return std::nullopt;
  return it->second.Predict(perf4sight_features(net.spec, net.shapes, batch));
}

Perf4sightModel train_perf4sight_model(const std::vector<const Observation*>& train, uint64_t seed) {
  Perf4sightModel m;
  std::map<const Observation*, arma::vec> features;
  for (const Observation* o : train) features[o] = perf4sight_features(o->net->spec, o->net->shapes, o->batch);
  for (results::Target t : results::kAllTargets) {
    std::vector<const Observation*> obs;
    for (const Observation* o : train)
      if (o->fits && o->values.get(t)) obs.push_back(o);
    if (obs.empty()) continue;
    arma::mat X(kPerf4sightFeatureCount, obs.size());
    arma::rowvec y(obs.size());
    for (size_t i = 0; i < obs.size(); ++i) {
      X.col(i) = features[obs[i]];
      y(i) = *obs[i]->values.get(t);
    }
    ExtraTreesOptions opt;
    opt.seed = seed;
    m.forests.emplace(t, ExtraTreesRegressor(X, y, opt));
  }
  if (m.forests.empty()) throw InputError(
        "nothing to fit: no step that ran has a measured latency_ms, mem_alloc, mem_reserved or mem_used "
        "(values that are NaN or Infinity count as missing)");
  for (results::Target t : {results::Target::kMemUsed, results::Target::kMemReserved, results::Target::kMemAlloc}) {
    if (!m.has(t)) continue;
    m.capacity_target = t;
    std::vector<std::pair<double, bool>> pf;
    for (const Observation* o : train) pf.emplace_back(m.forests.at(t).Predict(features[o]), o->fits);
    m.capacity_bytes = fit_capacity(pf);
    break;
  }
  return m;
}

nlohmann::json Perf4sightModel::to_json() const {
  nlohmann::json j;
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [t, f] : forests) targets[results::target_name(t)] = f.ToJson();
  j["targets"] = targets;
  if (capacity_bytes) j["capacity"] = {{"target", results::target_name(capacity_target)}, {"bytes", *capacity_bytes}};
  return j;
}

Perf4sightModel Perf4sightModel::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("targets") || !j["targets"].is_object())
    throw InputError("model: field \"targets\" must be an object");
  Perf4sightModel m;
  for (auto it = j["targets"].begin(); it != j["targets"].end(); ++it) {
    const std::optional<results::Target> t = results::target_from_name(it.key());
    if (!t) throw InputError("model: target \"" + it.key() + "\": unknown target");
    ExtraTreesRegressor forest = ExtraTreesRegressor::FromJson(*it);
    if (forest.NumFeatures() != kPerf4sightFeatureCount)
      throw InputError("model: target \"" + it.key() + "\": the forest takes " + std::to_string(forest.NumFeatures()) +
                       " features, perf4sight's are " + std::to_string(kPerf4sightFeatureCount));
    m.forests.emplace(*t, std::move(forest));
  }
  if (j.contains("capacity")) {
    const auto& c = j["capacity"];
    if (!c.is_object() || !c.contains("target") || !c["target"].is_string() || !c.contains("bytes") || !c["bytes"].is_number())
      throw InputError("model: capacity: needs a target and bytes");
    const std::optional<results::Target> t = results::target_from_name(c["target"].get<std::string>());
    if (!t || !m.has(*t)) throw InputError("model: capacity: target must be a fitted memory target");
    const double bytes = c["bytes"].get<double>();
    if (!std::isfinite(bytes) || bytes <= 0) throw InputError("model: capacity: bytes must be positive");
    m.capacity_target = *t;
    m.capacity_bytes = bytes;
  }
  return m;
}

}  // namespace p4s::predictors
