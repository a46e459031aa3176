// The p4s memory models: the simulated step's peak (or the caching allocator's reservation)
// and a fixed part, weighed by non-negative coefficients fitted for relative error, up to the
// most the device reports.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <armadillo>

#include "predictors/observations.hpp"
#include "results_format/format.hpp"
#include "sim/device_runtime.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::predictors {

// y = min(coefficients . features(batch), ceiling), features named as
// NetworkAnalysis::memory_feature. The ceiling is the most of this figure the device reports:
// a step that asks for more and still runs reports no more (a Jetson's memory is full and the
// kernel reclaims or swaps out the rest; the caching allocator frees its cache and retries), so
// the measured figure stops there while the step's demand grows on. Learned for mem_used and
// mem_reserved where the data reaches the device's limit (some steps ran out of memory) and
// piles up under the largest value measured; absent otherwise.
struct LinearMemoryModel {
  std::vector<std::string> features;
  arma::vec coefficients;
  std::optional<double> ceiling;
  double demand(const sim::NetworkAnalysis& a, int64_t batch) const;  // the linear part, no ceiling
  double predict(const sim::NetworkAnalysis& a, int64_t batch) const;
};

// A memory model fitted on `obs` (steps that ran, each with a positive value of `t`) over the
// named features, and its in-sample error (a fraction). With `learn_ceiling` (the data reached
// the device's limit: some steps ran out of memory), where the measurements pile up at the
// top, the model stops at the largest value measured and its linear part is fitted on the
// steps below the pile.
struct MemoryFit {
  LinearMemoryModel model;
  double mape = std::numeric_limits<double>::infinity();  // until fitted
};
MemoryFit fit_memory(const std::vector<const Observation*>& obs, results::Target t,
                     const std::vector<std::string>& features, const sim::DeviceRuntime& runtime,
                     sim::AnalysisCache& cache, bool learn_ceiling = false);

// The steps of `obs` that ran and measured a positive value of `t`.
std::vector<const Observation*> with_target(const std::vector<const Observation*>& obs, results::Target t);

}  // namespace p4s::predictors
