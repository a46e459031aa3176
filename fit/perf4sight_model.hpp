// The perf4sight baseline as a predictor: per target, an ExtraTrees regressor (300 trees) on
// the 56 per-convolution features summed over the network (perf4sight_features.hpp), as the
// paper's decision_tree_fitter does; fits / does not fit by a threshold on its memory
// prediction, learned like the project's own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include <nlohmann/json_fwd.hpp>

#include "fit/extra_trees.hpp"
#include "fit/network_library.hpp"
#include "fit/observations.hpp"
#include "fit/results.hpp"

namespace p4s::fit {

struct Perf4sightModel {
  std::map<Target, ExtraTreesRegressor> forests;
  std::optional<double> capacity_bytes;
  Target capacity_target = Target::kMemAlloc;

  bool has(Target t) const { return forests.count(t) > 0; }
  std::optional<double> predict(const ResolvedNet& net, int64_t batch, Target t) const;

  nlohmann::json to_json() const;
  static Perf4sightModel from_json(const nlohmann::json& j);
};

// Trains one forest per target present in `train`. Deterministic for a seed.
Perf4sightModel train_perf4sight_model(const std::vector<const Observation*>& train, uint64_t seed);

}  // namespace p4s::fit
