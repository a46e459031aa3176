// The perf4sight baseline as a predictor: per target, an ExtraTrees regressor (300 trees) on
// the 56 per-convolution features summed over the network (perf4sight_features.hpp), as the
// paper's decision_tree_fitter does; fits / does not fit by a threshold on its memory
// prediction, learned like the project's own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include <nlohmann/json_fwd.hpp>

#include "modelgen/network_library.hpp"
#include "predictors/observations.hpp"
#include "predictors/perf4sight/extra_trees.hpp"
#include "results_format/measurements.hpp"

namespace p4s::predictors {

struct Perf4sightModel {
  std::map<results::Target, ExtraTreesRegressor> forests;
  std::optional<double> capacity_bytes;
  results::Target capacity_target = results::Target::kMemAlloc;

  bool has(results::Target t) const { return forests.count(t) > 0; }
  std::optional<double> predict(const modelgen::ResolvedNet& net, int64_t batch, results::Target t) const;

  nlohmann::json to_json() const;
  static Perf4sightModel from_json(const nlohmann::json& j);
};

// Trains one forest per target present in `train`. Deterministic for a seed.
Perf4sightModel train_perf4sight_model(const std::vector<const Observation*>& train, uint64_t seed);

}  // namespace p4s::predictors
