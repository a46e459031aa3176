#include "predictors/p4s/p4s_predictor.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace p4s::predictors {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

const char* combine_words(Combine c) {
  switch (c) {
    case Combine::kSum: return "the sum over layers of dispatch and work";
    case Combine::kLayerMax: return "the sum over layers of the larger of dispatch and work";
    case Combine::kPipeline: return "the step's dispatch and work as a two-stage pipeline";
  }
  return "";
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

}  // namespace

P4sPredictor::P4sPredictor(P4sModel model, sim::AnalysisCache* shared) : model_(std::move(model)), shared_(shared) {}

const sim::NetworkAnalysis& P4sPredictor::analysis(const modelgen::ResolvedNet& net,
                                                    const results::Recipe& recipe) const {
  if (shared_) return shared_->get(net, model_.runtime, recipe);
  std::unique_ptr<sim::NetworkAnalysis>& a = analyses_[{&net, recipe}];
  if (!a) a = std::make_unique<sim::NetworkAnalysis>(net, model_.runtime, recipe);
  return *a;
}

std::optional<double> P4sPredictor::predict_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                                 const results::Recipe& recipe) const {
  if (!model_.has(t)) return std::nullopt;
  return model_.predict(analysis(net, recipe), batch, t);
}

std::optional<double> P4sPredictor::demand_step(const modelgen::ResolvedNet& net, int64_t batch, results::Target t,
                                                const results::Recipe& recipe) const {
  if (!model_.has(t)) return std::nullopt;
  return model_.demand(analysis(net, recipe), batch, t);
}

std::optional<double> P4sPredictor::ceiling(results::Target t) const {
  auto it = model_.memory.find(t);
  return it == model_.memory.end() ? std::nullopt : it->second.ceiling;
}

std::optional<Capacity> P4sPredictor::capacity() const {
  if (!model_.capacity_bytes) return std::nullopt;
  return Capacity{*model_.capacity_bytes, model_.capacity_target};
}

nlohmann::json P4sPredictor::to_json() const { return model_.to_json(); }

std::vector<std::string> P4sPredictor::describe() const {
  std::vector<std::string> lines{"runtime: " + model_.runtime.describe()};
  for (const auto& [t, lm] : model_.memory) {
    std::ostringstream s;
    s << "`" << results::target_name(t) << "` =";
    for (size_t f = 0; f < lm.features.size(); ++f)
      s << (f ? " +" : "") << " " << fmt("%.6g", lm.coefficients(f)) << " x " << lm.features[f];
    if (lm.ceiling)
      s << ", at most " << fmt("%.1f", mib(*lm.ceiling))
        << " MiB (the most measured: past the device's limit a step reports no more)";
    lines.push_back(s.str());
  }
  if (const std::optional<LatencyModel>& l = model_.latency) {
    std::ostringstream s;
    s << "`latency_ms` = " << fmt("%.4g", l->step_ms) << " ms + " << fmt("%.4g", l->scale) << " x "
      << combine_words(l->combine) << ", fitted on " << (l->from_layer_cases ? "layer cases" : "network cases")
      << "; coefficients:";
    for (size_t i = 0; i < l->coefficients.n_elem; ++i)
      s << (i ? "," : "") << " " << latency_coefficient_names()[i] << " " << fmt("%.4g", l->coefficients(i));
    if (l->small_batch_below > 0) s << "; per_small_batch_flop_ms below batch " << l->small_batch_below;
    lines.push_back(s.str());
  }
  if (model_.capacity_bytes) {
    std::ostringstream s;
    s << "fits when predicted `" << results::target_name(model_.capacity_target) << "`"
      << (model_.memory.at(model_.capacity_target).ceiling ? " (without its ceiling)" : "") << " <= "
      << fmt("%.1f", mib(*model_.capacity_bytes)) << " MiB";
    lines.push_back(s.str());
  }
  return lines;
}

}  // namespace p4s::predictors
