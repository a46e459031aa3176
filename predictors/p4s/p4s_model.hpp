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

#include "predictors/observations.hpp"
#include "results_format/reader.hpp"
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

// latency_ms = step_ms + scale * combine over layers of (dispatch = per_op * ops
//     + per_depthwise_op * depthwise_ops (fitted as 0 now; older files may weigh it),
//     work = per_tile_flop * tile_flops * batch + per_grouped_flop * grouped_flops * batch
//     + per_byte * (bytes * batch + fixed_bytes)
//     + per_depthwise_byte * depthwise_bytes * batch + per_linear_flop * linear_flops * batch
//     + per_depthwise_flop * depthwise_flops * batch
//     + per_depthwise_gemm_flop * depthwise_gemm_flops * batch
//     + per_generic_depthwise_flop * generic_depthwise_flops * batch
//     + per_small_batch_flop * tile_flops * batch where batch < small_batch_below).
// A convolution on the CPU's BLAS path (batch below blas_below_batch) costs
// per_linear_flop * blas_flops * batch in place of its tile FLOPs: a GEMM does not pad channels
// to tiles. Coefficients in latency_coefficient_names() order, in ms.
// Fitted on network cases alone, step_ms is coefficients(0) and scale 1. Where the results
// have layer cases, the coefficients are fitted on them (a compositional predictor: the
// network is the sum of its layers) and step_ms and scale on the network cases.
// How a layer's dispatch (host) and work (device) combine into the step's latency:
//   kSum:      one after the other (a CPU, which runs what it dispatches);
//   kLayerMax: the larger of the two per layer (model files written before kPipeline);
//   kPipeline: a two-stage pipeline over the whole step (an asynchronous device working
//              through the kernels the host queues, waiting only when the queue runs dry).
enum class Combine { kSum, kLayerMax, kPipeline };
const char* combine_name(Combine c);  // "sum", "max", "pipeline": the model file's names
std::optional<Combine> combine_from_name(const std::string& name);

struct LatencyModel {
  Combine combine = Combine::kPipeline;
  arma::vec coefficients;
  double step_ms = 0;
  double scale = 1.0;
  bool from_layer_cases = false;
  int64_t small_batch_below = 0;  // batches below it: per_small_batch_flop_ms more; 0: none
  double predict(const sim::NetworkAnalysis& a, int64_t batch) const;
};
const std::vector<std::string>& latency_coefficient_names();

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

  nlohmann::json to_json() const;
  // Throws InputError naming the field for a malformed object.
  static P4sModel from_json(const nlohmann::json& j);
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
