#include "predictors/p4s/latency_model.hpp"

#include <iterator>

#include "predictors/p4s/latency_terms.hpp"

namespace p4s::predictors {

double LatencyModel::predict(const sim::NetworkAnalysis& a, int64_t batch) const {
  return step_ms + scale * latency_terms::layer_sum(a.layer_costs(), batch, coefficients, combine, small_batch_below);
}

const char* combine_name(Combine c) {
  switch (c) {
    case Combine::kSum: return "sum";
    case Combine::kLayerMax: return "max";
    case Combine::kPipeline: return "pipeline";
  }
  return "sum";
}

std::optional<Combine> combine_from_name(const std::string& name) {
  for (Combine c : {Combine::kSum, Combine::kLayerMax, Combine::kPipeline})
    if (name == combine_name(c)) return c;
  return std::nullopt;
}

const std::vector<std::string>& latency_coefficient_names() {
  static constexpr const char* kNames[] = {"step_ms",
                                           "per_op_ms",
                                           "per_tile_flop_ms",
                                           "per_byte_ms",
                                           "per_depthwise_byte_ms",
                                           "per_linear_flop_ms",
                                           "per_depthwise_op_ms",
                                           "per_depthwise_flop_ms",
                                           "per_depthwise_gemm_flop_ms",
                                           "per_grouped_flop_ms",
                                           "per_small_batch_flop_ms",
                                           "per_generic_depthwise_flop_ms",
                                           "per_transcendental_ms"};
  static_assert(std::size(kNames) == latency_terms::kLatencyCoefficients, "a name for each coefficient");
  static const std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  return names;
}

}  // namespace p4s::predictors
