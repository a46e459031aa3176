// The project's own predictors: physics first, learning for what is left.
//   memory: the simulated training step (memory_sim.hpp) under the device's runtime, and for
//           mem_reserved the caching allocator replayed on it; a small non-negative linear
//           part per device (fixed footprint, workspaces) fitted for relative error;
//   latency: what dispatching each layer's kernels costs and what its work costs (GEMM tile
//           FLOPs, bytes moved, depthwise bytes; cost_terms.hpp), combined as the device
//           runs them: a pipeline on an asynchronous GPU, a sum on a CPU (Combine).
// Everything learned is linear with non-negative weights, so predictions grow with networks
// and batches beyond the training data instead of saturating.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <armadillo>
#include <nlohmann/json_fwd.hpp>

#include "predictors/model_format.hpp"
#include "predictors/observations.hpp"
#include "predictors/p4s/latency_model.hpp"
#include "predictors/p4s/memory_model.hpp"
#include "results_format/measurements.hpp"
#include "sim/device_runtime.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::predictors {

struct P4sModel {
  sim::DeviceRuntime runtime;
  std::map<results::Target, LinearMemoryModel> memory;  // the memory targets that were fitted
  std::optional<LatencyModel> latency;
  // Fits / does not fit: a step fits when the demand of `capacity_target` is at most
  // capacity_bytes (learned from the out-of-memory entries; absent without them).
  std::optional<double> capacity_bytes;
  results::Target capacity_target = results::Target::kMemAlloc;

  bool has(results::Target t) const;
  std::optional<double> predict(const sim::NetworkAnalysis& a, int64_t batch, results::Target t) const;
  // What the step asks of a memory target before the device's ceiling (predict's value where
  // the target has none): what fits / does not fit and memory budgets compare.
  std::optional<double> demand(const sim::NetworkAnalysis& a, int64_t batch, results::Target t) const;

  // The model file's "model" object (p4s_model_json.cpp). from_json reads it as a file of
  // `version` wrote it; throws InputError naming the field for a malformed object.
  nlohmann::json to_json() const;
  static P4sModel from_json(const nlohmann::json& j, const ModelFormatVersion& version);
};

// Fits the model on `train` (steps that ran and did not; each target from the observations
// that have it), choosing the runtime among `candidates`. Throws InputError when
// there is nothing to fit.
// `layer_cases` (may be empty): the results' layer cases, for the compositional latency
// predictor.
P4sModel train_p4s_model(const std::vector<const Observation*>& train,
                         const std::vector<results::LayerResult>& layer_cases,
                         const std::vector<sim::DeviceRuntime>& candidates, sim::AnalysisCache& cache);

}  // namespace p4s::predictors
