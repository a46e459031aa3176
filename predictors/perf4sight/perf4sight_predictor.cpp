#include "predictors/perf4sight/perf4sight_predictor.hpp"

#include <nlohmann/json.hpp>

namespace p4s::predictors {

nlohmann::json Perf4sightPredictor::to_json() const { return model_.to_json(); }

std::optional<Capacity> Perf4sightPredictor::capacity() const {
  if (!model_.capacity_bytes) return std::nullopt;
  return Capacity{*model_.capacity_bytes, model_.capacity_target};
}

}  // namespace p4s::predictors
