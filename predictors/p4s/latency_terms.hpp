// The latency model's terms, shared by its fit and its prediction so that the two cannot
// disagree: the coefficients by index, what each layer puts on them (its dispatch on the host,
// its work on the device), and how layers combine into a step. Internal to predictors/p4s/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <armadillo>

#include "predictors/p4s/latency_model.hpp"
#include "sim/cost_terms.hpp"

namespace p4s::predictors::latency_terms {

// The latency coefficients by index, in latency_coefficient_names() order.
enum Coefficient : size_t {
  kStep,
  kPerOp,
  kPerTileFlop,
  kPerByte,
  kPerDepthwiseByte,
  kPerLinearFlop,
  kPerDepthwiseOp,
  kPerDepthwiseFlop,
  kPerDepthwiseGemmFlop,
  kPerGroupedFlop,
  kPerSmallBatchFlop,
  kPerGenericDepthwiseFlop,
  kPerTranscendental,
  kLatencyCoefficients
};

// What a layer puts on each coefficient: `put(index, quantity)` for each. One mapping serves the
// fit, which sums the quantities into its features, and prediction, which weighs them, so that
// the two cannot disagree; a callback, not a returned array, keeps prediction as fast as
// hand-written sums.
//
// The host's side: the kernels it dispatches, and the depthwise ones again for model files
// that weigh them apart (the fit learned per_depthwise_op_ms once; it now fits 0, see
// fit_latency_form, and older files predict as they did).
template <typename Put>
void dispatch_quantities(const sim::LayerCost& c, Put&& put) {
  put(kPerOp, c.ops);
  put(kPerDepthwiseOp, c.depthwise_ops);
}

// The device's side at batch size b; `small`: b is below the model's small_batch_below, where
// one-group convolutions' FLOPs cost per_small_batch_flop_ms on top.
template <typename Put>
void work_quantities(const sim::LayerCost& c, double b, bool small, Put&& put) {
  if (b < static_cast<double>(c.blas_below_batch)) {
    put(kPerLinearFlop, c.blas_flops * b);
  } else {
    put(kPerTileFlop, c.tile_flops * b);
    if (small) put(kPerSmallBatchFlop, c.tile_flops * b);
    put(kPerGroupedFlop, c.grouped_flops * b);
  }
  put(kPerByte, c.bytes * b + c.fixed_bytes);
  put(kPerDepthwiseByte, c.depthwise_bytes * b);
  put(kPerLinearFlop, c.linear_flops * b);
  put(kPerDepthwiseFlop, c.depthwise_flops * b);
  put(kPerDepthwiseGemmFlop, c.depthwise_gemm_flops * b);
  put(kPerGenericDepthwiseFlop, c.generic_depthwise_flops * b);
  put(kPerTranscendental, c.transcendental * b);
}

// What a layer's work and its dispatch cost under coefficients w.
inline double work_ms(const sim::LayerCost& c, double batch, bool small, const arma::vec& w) {
  const double* wp = w.memptr();
  double t = 0;
  work_quantities(c, batch, small, [&](size_t i, double q) { t += wp[i] * q; });
  return t;
}
inline double dispatch_ms(const sim::LayerCost& c, const arma::vec& w) {
  const double* wp = w.memptr();
  double t = 0;
  dispatch_quantities(c, [&](size_t i, double q) { t += wp[i] * q; });
  return t;
}

// The host dispatches the layers' kernels in order while the device works through them in the
// same order, each layer's work starting once it is dispatched and the layer before it is done:
// a two-stage flow shop. Its length is the largest, over the layer k where the device last
// waits, of the dispatch up to k and the work from k on: the largest dispatch-to-k minus
// work-before-k, plus all the work, found in one pass that evaluates each layer's work once.
struct Pipeline {
  double length = 0;
  size_t wait = 0;  // k
};
inline Pipeline pipeline(const std::vector<sim::LayerCost>& costs, int64_t batch, bool small, const arma::vec& w) {
  const double b = static_cast<double>(batch);
  double dispatch_to = 0, work_before = 0, lead = 0;  // no allocation: predict() runs this
  size_t wait = 0;
  for (size_t l = 0; l < costs.size(); ++l) {
    dispatch_to += dispatch_ms(costs[l], w);
    if (l == 0 || dispatch_to - work_before > lead) {
      lead = dispatch_to - work_before;
      wait = l;
    }
    work_before += work_ms(costs[l], b, small, w);
  }
  return Pipeline{lead + work_before, wait};
}

inline bool is_small(int64_t batch, int64_t small_batch_below) { return batch < small_batch_below; }

// What the layers of a sample cost under coefficients w (without the step constant).
inline double layer_sum(const std::vector<sim::LayerCost>& costs, int64_t batch, const arma::vec& w, Combine combine,
                 int64_t small_batch_below) {
  const bool small = is_small(batch, small_batch_below);
  if (combine == Combine::kPipeline) return pipeline(costs, batch, small, w).length;
  double t = 0;
  for (const sim::LayerCost& c : costs) {
    const double dispatch = dispatch_ms(c, w);
    const double work = work_ms(c, static_cast<double>(batch), small, w);
    t += combine == Combine::kLayerMax ? std::max(dispatch, work) : dispatch + work;
  }
  return t;
}

}  // namespace p4s::predictors::latency_terms
