#include "predictors/p4s/memory_model.hpp"

#include <algorithm>

#include "predictors/p4s/nnls.hpp"

namespace p4s::predictors {
namespace {

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

}  // namespace

std::vector<const Observation*> with_target(const std::vector<const Observation*>& obs, results::Target t) {
  std::vector<const Observation*> out;
  for (const Observation* o : obs)
    if (o->fits && o->values.get(t) && *o->values.get(t) > 0) out.push_back(o);
  return out;
}

MemoryFit fit_memory(const std::vector<const Observation*>& obs, results::Target t,
                     const std::vector<std::string>& features, const sim::DeviceRuntime& runtime,
                     sim::AnalysisCache& cache, bool learn_ceiling) {
  arma::mat X(features.size(), obs.size());
  arma::rowvec y(obs.size());
  for (size_t i = 0; i < obs.size(); ++i) {
    const sim::NetworkAnalysis& a = cache.get(*obs[i]->net, runtime, obs[i]->recipe);
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
  MemoryFit r;
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

double LinearMemoryModel::demand(const sim::NetworkAnalysis& a, int64_t batch) const {
  double y = 0;
  for (size_t f = 0; f < features.size(); ++f) y += coefficients(f) * a.memory_feature(features[f], batch);
  return y;
}

double LinearMemoryModel::predict(const sim::NetworkAnalysis& a, int64_t batch) const {
  const double y = demand(a, batch);
  return ceiling ? std::min(y, *ceiling) : y;
}

}  // namespace p4s::predictors
