// The project's method as a Predictor: a fitted P4sModel, and the analyses of the networks it
// predicted (one per network, on the model's runtime), kept for the next prediction.
#pragma once

#include <map>
#include <memory>

#include "predictors/p4s/p4s_model.hpp"
#include "predictors/predictor.hpp"

namespace p4s::predictors {

class P4sPredictor final : public Predictor {
 public:
  // With `shared`, analyses are kept there (where other fits and predictors may have made them
  // already); it must outlive the predictor.
  explicit P4sPredictor(P4sModel model, sim::AnalysisCache* shared = nullptr);

  const P4sModel& model() const { return model_; }
  // The analysis of `net` trained by `recipe` on the model's runtime, made on first use.
  const sim::NetworkAnalysis& analysis(const modelgen::ResolvedNet& net,
                                       const results::Recipe& recipe = results::default_recipe()) const;

  Method method() const override { return Method::kP4s; }
  bool has(results::Target t) const override { return model_.has(t); }
  bool follows_recipes() const override { return true; }
  std::optional<double> ceiling(results::Target t) const override;
  std::optional<Capacity> capacity() const override;
  const sim::DeviceRuntime* runtime() const override { return &model_.runtime; }
  nlohmann::json to_json() const override;
  std::vector<std::string> describe() const override;

 protected:
  std::optional<double> predict_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                     const results::Recipe& recipe) const override;
  std::optional<double> demand_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                    const results::Recipe& recipe) const override;

 private:
  P4sModel model_;
  sim::AnalysisCache* shared_;
  mutable std::map<std::pair<const modelgen::ResolvedNet*, results::Recipe>, std::unique_ptr<sim::NetworkAnalysis>>
      analyses_;
};

}  // namespace p4s::predictors
