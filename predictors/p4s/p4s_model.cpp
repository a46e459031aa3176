#include "predictors/p4s/p4s_model.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/input_error.hpp"
#include "predictors/capacity.hpp"
#include "predictors/p4s/nnls.hpp"
#include "sim/cost_terms.hpp"

namespace p4s::predictors {
namespace {

struct Fitted {
  LinearMemoryModel model;
  double mape = std::numeric_limits<double>::infinity();
};

std::vector<const Observation*> with_target(const std::vector<const Observation*>& obs, results::Target t) {
  std::vector<const Observation*> out;
  for (const Observation* o : obs)
    if (o->fits && o->values.get(t) && *o->values.get(t) > 0) out.push_back(o);
  return out;
}

// Whether the features (rows of X, each scaled to unit length so that bytes and constants
// compare) are linearly independent over the samples.
bool separable(const arma::mat& X) {
  arma::mat scaled = X;
  for (arma::uword f = 0; f < X.n_rows; ++f) {
    const double n = arma::norm(X.row(f));
    if (n > 0) scaled.row(f) /= n;
  }
  return arma::rank(scaled, 1e-9) == X.n_rows;
}

// A figure that the device caps piles up under its ceiling: many steps measure close to the
// largest value (on the TX2, 7% of the steps that ran measure mem_used within 2% of the
// largest; a figure that grows freely has one or two steps there).
constexpr double kNearTop = 0.98;
bool piles_up_at_the_top(const arma::rowvec& y) {
  constexpr double kShare = 0.05, kAtLeast = 3;
  const auto near_top = static_cast<double>(arma::accu(y >= kNearTop * y.max()));
  return near_top >= kAtLeast && near_top >= kShare * static_cast<double>(y.n_elem);
}

// With `learn_ceiling` (the data reached the device's limit: some steps ran out of memory),
// where the measurements pile up at the top, the model stops at the largest value measured,
// and its linear part is fitted on the steps below the pile: those in it measured the ceiling.
Fitted fit_memory(const std::vector<const Observation*>& obs, results::Target t,
                  const std::vector<std::string>& features, const sim::DeviceRuntime& runtime,
                  sim::AnalysisCache& cache, bool learn_ceiling = false) {
  arma::mat X(features.size(), obs.size());
  arma::rowvec y(obs.size());
  for (size_t i = 0; i < obs.size(); ++i) {
    const sim::NetworkAnalysis& a = cache.get(*obs[i]->net, runtime);
    for (size_t f = 0; f < features.size(); ++f) X(f, i) = a.memory_feature(features[f], obs[i]->batch);
    y(i) = *obs[i]->values.get(t);
  }
  // Data that cannot tell the features apart (one measurement, or every measurement a multiple
  // of another) leaves the split between a fixed part and the simulated part to chance; the
  // simulation alone, scaled, is the physical answer, and it grows with the batch as a fixed
  // part would not.
  if (!separable(X)) {
    for (size_t f = 0; f < features.size(); ++f)
      if (features[f] == "one") X.row(f).zeros();
  }
  Fitted r;
  r.model.features = features;
  r.model.coefficients = fit_relative_nnls(X, y);
  if (learn_ceiling && piles_up_at_the_top(y)) {
    r.model.ceiling = y.max();
    const arma::uvec below = arma::find(y < kNearTop * *r.model.ceiling);
    if (below.n_elem >= X.n_rows && separable(X.cols(below)))
      r.model.coefficients = fit_relative_nnls(X.cols(below), y.cols(below));
  }
  arma::rowvec pred = r.model.coefficients.t() * X;
  if (r.model.ceiling) pred = arma::min(pred, arma::rowvec(pred.n_elem, arma::fill::value(*r.model.ceiling)));
  r.mape = arma::mean(arma::abs(pred - y) / y);
  return r;
}


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
}

// What a layer's work and its dispatch cost under coefficients w.
double work_ms(const sim::LayerCost& c, double batch, bool small, const arma::vec& w) {
  const double* wp = w.memptr();
  double t = 0;
  work_quantities(c, batch, small, [&](size_t i, double q) { t += wp[i] * q; });
  return t;
}
double dispatch_ms(const sim::LayerCost& c, const arma::vec& w) {
  const double* wp = w.memptr();
  double t = 0;
  dispatch_quantities(c, [&](size_t i, double q) { t += wp[i] * q; });
  return t;
}

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

// The host dispatches the layers' kernels in order while the device works through them in the
// same order, each layer's work starting once it is dispatched and the layer before it is done:
// a two-stage flow shop. Its length is the largest, over the layer k where the device last
// waits, of the dispatch up to k and the work from k on: the largest dispatch-to-k minus
// work-before-k, plus all the work, found in one pass that evaluates each layer's work once.
struct Pipeline {
  double length = 0;
  size_t wait = 0;  // k
};
Pipeline pipeline(const std::vector<sim::LayerCost>& costs, int64_t batch, bool small, const arma::vec& w) {
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

struct LatencySample {
  const std::vector<sim::LayerCost>* costs;
  int64_t batch;
  double y;
};

bool is_small(int64_t batch, int64_t small_batch_below) { return batch < small_batch_below; }

// What the layers of a sample cost under coefficients w (without the step constant).
double layer_sum(const std::vector<sim::LayerCost>& costs, int64_t batch, const arma::vec& w, Combine combine,
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
    // its kernel count (4.5 ms + 0.095 ms a kernel, within 1.1%) with no depthwise term.
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

LatencyModel fit_latency(const std::vector<const Observation*>& obs, const std::vector<results::LayerResult>& layer_cases,
                         const sim::DeviceRuntime& runtime, sim::AnalysisCache& cache) {
  std::vector<LatencySample> nets;
  for (const Observation* o : obs)
    nets.push_back(LatencySample{&cache.get(*o->net, runtime).layer_costs(), o->batch, *o->values.latency_ms});
  // Layer cases, where the results have enough of them.
  std::vector<std::vector<sim::LayerCost>> case_costs;
  std::vector<std::pair<size_t, const results::LayerResult*>> usable;
  for (const results::LayerResult& lr : layer_cases) {
    if (!lr.fits || !lr.values.latency_ms || *lr.values.latency_ms <= 0 || !lr.args.count("bs")) continue;
    std::optional<std::vector<sim::LayerCost>> c = sim::layer_case_costs(lr.kind, lr.args, sim::cost_options(runtime));
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
  // networks of one kind of layer and then extrapolates worst to another (TX2, MobileNetV2 held
  // out: 22.4% summed, 16.3% pipelined).
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

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(where + ": field \"" + key + "\" is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(where + ": field \"" + key + "\" has the wrong type");
  }
}

arma::vec finite_vec(const std::vector<double>& v, const std::string& where) {
  for (double x : v)
    if (!std::isfinite(x) || x < 0) throw InputError(where + ": coefficients must be finite and non-negative");
  return arma::vec(v);
}

}  // namespace

double LinearMemoryModel::demand(const sim::NetworkAnalysis& a, int64_t batch) const {
  double y = 0;
  for (size_t f = 0; f < features.size(); ++f) y += coefficients(f) * a.memory_feature(features[f], batch);
  return y;
}

double LinearMemoryModel::predict(const sim::NetworkAnalysis& a, int64_t batch) const {
  const double y = demand(a, batch);
  return ceiling ? std::min(y, *ceiling) : y;
}

double LatencyModel::predict(const sim::NetworkAnalysis& a, int64_t batch) const {
  return step_ms + scale * layer_sum(a.layer_costs(), batch, coefficients, combine, small_batch_below);
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
                                           "per_generic_depthwise_flop_ms"};
  static_assert(std::size(kNames) == kLatencyCoefficients, "a name for each coefficient");
  static const std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  return names;
}

namespace {

// Model files list their latency coefficients by name; those written before a coefficient
// existed list a prefix of today's names.
bool names_are_a_prefix(const std::vector<std::string>& names) {
  const std::vector<std::string>& now = latency_coefficient_names();
  return !names.empty() && names.size() <= now.size() && std::equal(names.begin(), names.end(), now.begin());
}

// A coefficient that a model file lacks takes what weighed its quantities when the file was
// written, so that the file predicts what it did: the depthwise GEMM pass and a GPU's generic
// depthwise kernels were costed as the other depthwise taps (per_depthwise_flop_ms), grouped
// convolutions as the rest (per_tile_flop_ms); the others' quantities cost nothing then (0).
double stand_in(const arma::vec& coefficients, size_t lacking) {
  switch (lacking) {
    case kPerDepthwiseGemmFlop:
    case kPerGenericDepthwiseFlop: return coefficients(kPerDepthwiseFlop);
    case kPerGroupedFlop: return coefficients(kPerTileFlop);
    default: return 0.0;
  }
}

}  // namespace

bool P4sModel::has(results::Target t) const {
  return t == results::Target::kLatencyMs ? latency.has_value() : memory.count(t) > 0;
}

std::optional<double> P4sModel::predict(const sim::NetworkAnalysis& a, int64_t batch, results::Target t) const {
  if (t == results::Target::kLatencyMs) {
    if (!latency) return std::nullopt;
    return latency->predict(a, batch);
  }
  auto it = memory.find(t);
  if (it == memory.end()) return std::nullopt;
  return it->second.predict(a, batch);
}

std::optional<double> P4sModel::demand(const sim::NetworkAnalysis& a, int64_t batch, results::Target t) const {
  if (t == results::Target::kLatencyMs) return predict(a, batch, t);
  auto it = memory.find(t);
  if (it == memory.end()) return std::nullopt;
  return it->second.demand(a, batch);
}

P4sModel train_p4s_model(const std::vector<const Observation*>& train,
                         const std::vector<results::LayerResult>& layer_cases,
                         const std::vector<sim::DeviceRuntime>& candidates, sim::AnalysisCache& cache) {
  if (candidates.empty()) throw std::invalid_argument("train_p4s_model: no candidate runtimes");
  P4sModel m;
  m.runtime = candidates.front();
  const bool cuda = m.runtime.kind == sim::DeviceKind::kCuda;
  bool anything = false;

  // mem_alloc, and the runtime semantics that explain it best.
  const auto alloc_obs = with_target(train, results::Target::kMemAlloc);
  if (!alloc_obs.empty()) {
    Fitted best;
    for (const sim::DeviceRuntime& r : candidates) {
      Fitted f = fit_memory(alloc_obs, results::Target::kMemAlloc, {"one", "sim_peak"}, r, cache);
      if (f.mape < best.mape) {
        best = std::move(f);
        m.runtime = r;
      }
    }
    m.memory[results::Target::kMemAlloc] = best.model;
    anything = true;
  }
  // Where some steps ran out of memory the data reached the device's limit, where mem_reserved
  // and mem_used may stop (LinearMemoryModel).
  const bool reached_limit =
      std::any_of(train.begin(), train.end(), [](const Observation* o) { return !o->fits; });
  // mem_reserved, and whether the cache was emptied before each step.
  const auto reserved_obs = with_target(train, results::Target::kMemReserved);
  if (cuda && !reserved_obs.empty()) {
    Fitted best;
    sim::DeviceRuntime chosen = m.runtime;
    for (bool empty : {false, true}) {
      sim::DeviceRuntime r = m.runtime;
      r.empty_cache_before_steps = empty;
      Fitted f = fit_memory(reserved_obs, results::Target::kMemReserved, {"one", "allocator_reserved"}, r, cache, reached_limit);
      if (f.mape < best.mape) {
        best = std::move(f);
        chosen = r;
      }
    }
    m.runtime = chosen;
    m.memory[results::Target::kMemReserved] = best.model;
    anything = true;
  }
  const auto used_obs = with_target(train, results::Target::kMemUsed);
  if (!used_obs.empty()) {
    const std::string base = cuda ? "allocator_reserved" : "sim_peak";
    m.memory[results::Target::kMemUsed] =
        fit_memory(used_obs, results::Target::kMemUsed, {"one", base}, m.runtime, cache, reached_limit).model;
    anything = true;
  }
  const auto latency_obs = with_target(train, results::Target::kLatencyMs);
  if (!latency_obs.empty()) {
    m.latency = fit_latency(latency_obs, layer_cases, m.runtime, cache);
    anything = true;
  }
  if (!anything) throw InputError(
        "nothing to fit: no step that ran has a measured latency_ms, mem_alloc, mem_reserved or mem_used "
        "(values that are NaN or Infinity count as missing)");

  // Capacity, on the memory target closest to what the device runs out of.
  for (results::Target t : {results::Target::kMemUsed, results::Target::kMemReserved, results::Target::kMemAlloc}) {
    if (!m.has(t)) continue;
    m.capacity_target = t;
    std::vector<std::pair<double, bool>> pf;
    for (const Observation* o : train)
      pf.emplace_back(*m.demand(cache.get(*o->net, m.runtime), o->batch, t), o->fits);
    m.capacity_bytes = fit_capacity(pf);
    break;
  }
  return m;
}

nlohmann::json P4sModel::to_json() const {
  nlohmann::json j;
  j["runtime"] = runtime.to_json();
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [t, lm] : memory) {
    nlohmann::json tj;
    tj["features"] = lm.features;
    tj["coefficients"] = arma::conv_to<std::vector<double>>::from(lm.coefficients);
    if (lm.ceiling) tj["ceiling"] = *lm.ceiling;
    targets[results::target_name(t)] = tj;
  }
  if (latency) {
    nlohmann::json tj;
    tj["combine"] = combine_name(latency->combine);
    tj["coefficient_names"] = latency_coefficient_names();
    tj["coefficients"] = arma::conv_to<std::vector<double>>::from(latency->coefficients);
    tj["step_ms"] = latency->step_ms;
    tj["scale"] = latency->scale;
    tj["fitted_on"] = latency->from_layer_cases ? "layer cases" : "network cases";
    tj["small_batch_below"] = latency->small_batch_below;
    targets[results::target_name(results::Target::kLatencyMs)] = tj;
  }
  j["targets"] = targets;
  if (capacity_bytes) {
    j["capacity"] = {{"target", results::target_name(capacity_target)}, {"bytes", *capacity_bytes}};
  }
  return j;
}

P4sModel P4sModel::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("model: must be an object");
  P4sModel m;
  m.runtime = sim::DeviceRuntime::from_json(get_field<nlohmann::json>(j, "runtime", "model"));
  const nlohmann::json targets = get_field<nlohmann::json>(j, "targets", "model");
  if (!targets.is_object()) throw InputError("model: field \"targets\" must be an object");
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    const std::optional<results::Target> t = results::target_from_name(it.key());
    const std::string where = "model: target \"" + it.key() + "\"";
    if (!t) throw InputError(where + ": unknown target");
    if (*t == results::Target::kLatencyMs) {
      LatencyModel lm;
      const std::string combine = get_field<std::string>(*it, "combine", where);
      const std::optional<Combine> c = combine_from_name(combine);
      if (!c) throw InputError(where + ": combine must be \"sum\", \"max\" or \"pipeline\"");
      lm.combine = *c;
      const auto names = get_field<std::vector<std::string>>(*it, "coefficient_names", where);
      if (!names_are_a_prefix(names))
        throw InputError(where + ": coefficient names differ from this version's");
      lm.coefficients = finite_vec(get_field<std::vector<double>>(*it, "coefficients", where), where);
      if (lm.coefficients.n_elem != names.size())
        throw InputError(where + ": wrong number of coefficients");
      lm.coefficients.resize(latency_coefficient_names().size());
      for (size_t i = names.size(); i < lm.coefficients.n_elem; ++i) lm.coefficients(i) = stand_in(lm.coefficients, i);
      lm.step_ms = get_field<double>(*it, "step_ms", where);
      lm.scale = get_field<double>(*it, "scale", where);
      if (!std::isfinite(lm.step_ms) || lm.step_ms < 0 || !std::isfinite(lm.scale) || lm.scale < 0)
        throw InputError(where + ": step_ms and scale must be finite and non-negative");
      const std::string on = get_field<std::string>(*it, "fitted_on", where);
      if (on != "layer cases" && on != "network cases")
        throw InputError(where + ": fitted_on must be \"layer cases\" or \"network cases\"");
      lm.from_layer_cases = on == "layer cases";
      if (it->contains("small_batch_below")) {  // absent in files written before it: none
        const nlohmann::json& below = (*it)["small_batch_below"];
        if (!below.is_number_integer() || below.get<int64_t>() < 0)
          throw InputError(where + ": small_batch_below must be a non-negative integer");
        lm.small_batch_below = below.get<int64_t>();
      }
      m.latency = lm;
    } else {
      LinearMemoryModel lm;
      lm.features = get_field<std::vector<std::string>>(*it, "features", where);
      for (const std::string& f : lm.features)
        if (!sim::is_memory_feature(f)) throw InputError(where + ": unknown feature \"" + f + "\"");
      if (m.runtime.kind != sim::DeviceKind::kCuda &&
          std::find(lm.features.begin(), lm.features.end(), "allocator_reserved") != lm.features.end())
        throw InputError(where + ": allocator_reserved needs a CUDA runtime");
      lm.coefficients = finite_vec(get_field<std::vector<double>>(*it, "coefficients", where), where);
      if (lm.coefficients.n_elem != lm.features.size())
        throw InputError(where + ": features and coefficients differ in number");
      if (it->contains("ceiling")) {
        const double c = get_field<double>(*it, "ceiling", where);
        if (!std::isfinite(c) || c <= 0) throw InputError(where + ": ceiling must be positive");
        lm.ceiling = c;
      }
      m.memory[*t] = lm;
    }
  }
  if (j.contains("capacity")) {
    const nlohmann::json& c = j["capacity"];
    const std::optional<results::Target> t = results::target_from_name(get_field<std::string>(c, "target", "model: capacity"));
    if (!t || *t == results::Target::kLatencyMs || !m.has(*t))
      throw InputError("model: capacity: target must be a fitted memory target");
    m.capacity_target = *t;
    const double bytes = get_field<double>(c, "bytes", "model: capacity");
    if (!std::isfinite(bytes) || bytes <= 0) throw InputError("model: capacity: bytes must be positive");
    m.capacity_bytes = bytes;
  }
  return m;
}

}  // namespace p4s::predictors
