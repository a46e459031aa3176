// The p4s latency model: what dispatching each layer's kernels costs and what its work costs
// (sim/cost_terms.hpp), weighed by non-negative coefficients and combined as the device runs
// them: a pipeline on an asynchronous GPU, a sum on a CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <armadillo>

#include "sim/network_analysis.hpp"

namespace p4s::predictors {

// latency_ms = step_ms + scale * combine over layers of (dispatch = per_op * ops
//     + per_depthwise_op * depthwise_ops (fitted as 0 now; older files may weigh it),
//     work = per_tile_flop * tile_flops * batch + per_grouped_flop * grouped_flops * batch
//     + per_byte * (bytes * batch + fixed_bytes)
//     + per_depthwise_byte * depthwise_bytes * batch + per_linear_flop * linear_flops * batch
//     + per_depthwise_flop * depthwise_flops * batch
//     + per_depthwise_gemm_flop * depthwise_gemm_flops * batch
//     + per_generic_depthwise_flop * generic_depthwise_flops * batch
//     + per_transcendental * transcendental * batch
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

}  // namespace p4s::predictors
