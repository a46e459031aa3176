// The perf4sight baseline as a Predictor.
#pragma once

#include "predictors/perf4sight/perf4sight_model.hpp"
#include "predictors/predictor.hpp"

namespace p4s::predictors {

class Perf4sightPredictor final : public Predictor {
 public:
  explicit Perf4sightPredictor(Perf4sightModel model) : model_(std::move(model)) {}

  const Perf4sightModel& model() const { return model_; }

  Method method() const override { return Method::kPerf4sight; }
  bool has(results::Target t) const override { return model_.has(t); }
  bool follows_recipes() const override { return false; }
  std::optional<Capacity> capacity() const override;
  nlohmann::json to_json() const override;
  std::vector<std::string> describe() const override { return {}; }

 protected:
  // The recipe plays no part: perf4sight's features are the network's alone.
  std::optional<double> predict_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                     const results::Recipe&) const override {
    return model_.predict(net, batch, t);
  }

 private:
  Perf4sightModel model_;
};

}  // namespace p4s::predictors
