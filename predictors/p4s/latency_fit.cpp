#include "predictors/p4s/latency_fit.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "predictors/p4s/latency_terms.hpp"
#include "predictors/p4s/nnls.hpp"
#include "sim/cost_terms.hpp"

namespace p4s::predictors {
namespace {

using namespace latency_terms;

// Which sides of each layer a sample's latency counts: with `wait`, the layer where the
// pipeline's device last waits, the dispatch up to it and the work from it on; without, both
// sides of every layer (the summed form).
bool dispatch_counts(std::optional<size_t> wait, size_t layer) { return !wait || layer <= *wait; }
bool work_counts(std::optional<size_t> wait, size_t layer) { return !wait || layer >= *wait; }

// The latency features of one sample: 1 for the step constant, then the quantities of the
// layers' sides that count.
arma::vec latency_features(const std::vector<sim::LayerCost>& costs, int64_t batch, bool small,
                           std::optional<size_t> wait) {
  arma::vec f(kLatencyCoefficients, arma::fill::zeros);
  auto add = [&f](size_t i, double q) { f(i) += q; };
  const double b = static_cast<double>(batch);
  for (size_t l = 0; l < costs.size(); ++l) {
    if (dispatch_counts(wait, l)) dispatch_quantities(costs[l], add);
    if (work_counts(wait, l)) work_quantities(costs[l], b, small, add);
  }
  f(kStep) = 1.0;
  return f;
}

struct LatencySample {
  const std::vector<sim::LayerCost>* costs;
  int64_t batch;
  double y;
};

// Fits one form with one small-batch threshold (0: none); the pipeline's fit says its in-sample
// MAPE (the summed form, fitted in one solve, leaves it unset). Linear layers and grouped
// convolutions get coefficients of their own only where the samples can tell them apart (layer
// cases with Linear, samples with grouped convolutions); else they cost as convs with one group
// do.
struct FormFit {
  LatencyModel model;
  double mape = INFINITY;
};
FormFit fit_latency_form(const std::vector<LatencySample>& s, Combine combine, bool separate_linear,
                         bool separate_grouped, int64_t small_batch_below) {
  // Quantities without a coefficient of their own count as one-group convolutions' FLOPs and
  // take that coefficient.
  std::vector<Coefficient> tied;
  if (!separate_linear) tied.push_back(kPerLinearFlop);
  if (!separate_grouped) tied.push_back(kPerGroupedFlop);
  auto solve = [&](const std::vector<std::optional<size_t>>& waits) {
    arma::mat X(kLatencyCoefficients, s.size());
    arma::rowvec y(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      X.col(i) = latency_features(*s[i].costs, s[i].batch, is_small(s[i].batch, small_batch_below), waits[i]);
      y(i) = s[i].y;
    }
    for (Coefficient own : tied) {
      X.row(kPerTileFlop) += X.row(own);
      X.row(own).zeros();
    }
    // A depthwise kernel is dispatched as any other. Fitted apart, its extra cost took what the
    // step constant and the per-kernel cost could not tell apart: in the TX2 data MobileNetV2,
    // the one family with depthwise layers, is also the one with many kernels, and each
    // family's most pruned network at batch 2, where the dispatch decides, lies on one line in
    // its kernel count with no depthwise term.
    X.row(kPerDepthwiseOp).zeros();
    arma::vec w = fit_relative_nnls(X, y);
    for (Coefficient own : tied) w(own) = w(kPerTileFlop);
    w(kPerDepthwiseOp) = 0;
    return w;
  };
  std::vector<std::optional<size_t>> waits(s.size());  // none yet: everything counts
  FormFit fit;
  LatencyModel& m = fit.model;
  m.combine = combine;
  m.small_batch_below = small_batch_below;
  m.coefficients = solve(waits);  // everything counted: the summed fit, a starting point
  if (combine == Combine::kSum) return fit;
  // Alternate: count in each sample the dispatch up to the layer where the device last waits
  // under the current coefficients and the work from there on, refit, until nothing moves. One
  // walk of a sample's pipeline gives both what counts next and the current fit's error. Keep
  // the best fit seen (the alternation can cycle).
  LatencyModel current = m;
  for (int iter = 0; iter <= 100; ++iter) {
    double err = 0;
    bool changed = false;
    for (size_t i = 0; i < s.size(); ++i) {
      const Pipeline p =
          pipeline(*s[i].costs, s[i].batch, is_small(s[i].batch, small_batch_below), current.coefficients);
      err += std::abs(current.coefficients(kStep) + p.length - s[i].y) / s[i].y;
      changed |= waits[i] != p.wait;
      waits[i] = p.wait;
    }
    err /= static_cast<double>(s.size());
    if (err < fit.mape) {
      fit.mape = err;
      m = current;
    }
    if (!changed && iter > 0) break;
    current.coefficients = solve(waits);
  }
  return fit;
}

// Below which batch size one-group convolutions cost more per FLOP: a GPU library picks other
// kernels for small batches and fills the device less (TX2: a ResNet-18 or SqueezeNet sample
// costs 1.28 to 1.79 times as much at batch 8 as at 64, over the pruning levels, and about 1.1
// times at 16; MobileNetV2's smaller steps are partly the host's dispatch at 8). The fit tries
// each threshold that splits its samples and keeps the one of least in-sample error, where it
// lowers that error by more than a hundredth of a point (a term that explains nothing is none
// to extrapolate with); 0 (none) where none does. A CPU has its own small-batch path
// (LayerCost::blas_below_batch) and takes none.
FormFit fit_latency_pipeline(const std::vector<LatencySample>& s, bool separate_linear, bool separate_grouped) {
  constexpr double kMinGain = 1e-4;  // in-sample MAPE, as a fraction
  FormFit best = fit_latency_form(s, Combine::kPipeline, separate_linear, separate_grouped, 0);
  for (int64_t below : {4, 8, 16, 32, 64, 128}) {
    const bool splits =
        std::any_of(s.begin(), s.end(), [&](const LatencySample& x) { return x.batch < below; }) &&
        std::any_of(s.begin(), s.end(), [&](const LatencySample& x) { return x.batch >= below; });
    if (!splits) continue;
    FormFit f = fit_latency_form(s, Combine::kPipeline, separate_linear, separate_grouped, below);
    if (f.mape < best.mape - kMinGain) best = std::move(f);
  }
  return best;
}

// A CPU runs what it dispatches; a CUDA device works through the queue the host fills.
Combine latency_combine(const sim::DeviceRuntime& runtime) {
  return runtime.kind == sim::DeviceKind::kCpu ? Combine::kSum : Combine::kPipeline;
}

}  // namespace

LatencyModel fit_latency(const std::vector<const Observation*>& obs, const std::vector<results::LayerResult>& layer_cases,
                         const sim::DeviceRuntime& runtime, sim::AnalysisCache& cache) {
  // The terms are float32 kernels' work at fitted rates; autocast steps run other kernels
  // (half-precision GEMMs and convolutions, casts) at rates the terms do not tell apart yet, so
  // they stay out of the latency fit (their latency is predicted from the float32 terms, and
  // a prediction says so: predictors/recipe_coverage.hpp).
  const auto fp32 = [](const results::Recipe& r) { return r.precision == results::Precision::kFp32; };
  std::vector<LatencySample> nets;
  for (const Observation* o : obs)
    if (fp32(o->recipe)) nets.push_back(LatencySample{&cache.get(*o->net, runtime, o->recipe).layer_costs(), o->batch, *o->values.latency_ms});
  // Layer cases, where the results have enough of them.
  std::vector<std::vector<sim::LayerCost>> case_costs;
  std::vector<std::pair<size_t, const results::LayerResult*>> usable;
  for (const results::LayerResult& lr : layer_cases) {
    if (!lr.fits || !lr.values.latency_ms || *lr.values.latency_ms <= 0 || !lr.args.count("bs") || !fp32(lr.recipe))
      continue;
    std::optional<std::vector<sim::LayerCost>> c = sim::layer_case_costs(lr.kind, lr.args, sim::cost_options(runtime), lr.recipe);
    if (!c) continue;
    case_costs.push_back(std::move(*c));
    usable.emplace_back(case_costs.size() - 1, &lr);
  }
  constexpr size_t kMinLayerCases = 8;
  const bool compositional = usable.size() >= kMinLayerCases;
  std::vector<LatencySample> fit_on;
  if (compositional)
    for (const auto& [i, lr] : usable) fit_on.push_back(LatencySample{&case_costs[i], lr->args.at("bs"), *lr->values.latency_ms});
  else
    fit_on = nets;

  bool separate_linear = false;
  if (compositional)
    for (const auto& [i, lr] : usable)
      for (const sim::LayerCost& c : case_costs[i])
        separate_linear |= c.linear_flops > 0 || (c.blas_below_batch > 0 && lr->args.at("bs") < c.blas_below_batch);
  // The device decides the form, not the fit: choosing by in-sample error picks the sum on
  // networks of one kind of layer and then extrapolates worst to another (on the TX2, the sum
  // predicted MobileNetV2 held out far worse than the pipeline).
  bool separate_grouped = false;
  for (const LatencySample& sample : fit_on)
    for (const sim::LayerCost& c : *sample.costs) separate_grouped |= c.grouped_flops > 0;
  LatencyModel m = latency_combine(runtime) == Combine::kPipeline
                       ? fit_latency_pipeline(fit_on, separate_linear, separate_grouped).model
                       : fit_latency_form(fit_on, Combine::kSum, separate_linear, separate_grouped, 0).model;
  m.step_ms = m.coefficients(kStep);
  m.scale = 1.0;
  if (compositional) {
    // The network as the sum of its layers, plus what a network step costs beyond them.
    m.from_layer_cases = true;
    arma::mat X(2, nets.size());
    arma::rowvec y(nets.size());
    for (size_t i = 0; i < nets.size(); ++i) {
      X(0, i) = 1.0;
      X(1, i) = layer_sum(*nets[i].costs, nets[i].batch, m.coefficients, m.combine, m.small_batch_below);
      y(i) = nets[i].y;
    }
    const arma::vec w = fit_relative_nnls(X, y);
    m.step_ms = w(0);
    m.scale = w(1);
  }
  return m;
}

}  // namespace p4s::predictors
