#include "fit/p4s_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "fit/capacity.hpp"
#include "fit/nnls.hpp"

namespace p4s::fit {
namespace {

struct Fitted {
  LinearMemoryModel model;
  double mape = std::numeric_limits<double>::infinity();
};

std::vector<const Observation*> with_target(const std::vector<const Observation*>& obs, Target t) {
  std::vector<const Observation*> out;
  for (const Observation* o : obs)
    if (o->fits && o->values.get(t) && *o->values.get(t) > 0) out.push_back(o);
  return out;
}

Fitted fit_memory(const std::vector<const Observation*>& obs, Target t,
                  const std::vector<std::string>& features, const DeviceRuntime& runtime,
                  AnalysisCache& cache) {
  arma::mat X(features.size(), obs.size());
  arma::rowvec y(obs.size());
  std::vector<const NetworkAnalysis*> analyses;
  for (size_t i = 0; i < obs.size(); ++i) {
    const NetworkAnalysis& a = cache.get(*obs[i]->net, runtime);
    for (size_t f = 0; f < features.size(); ++f) X(f, i) = a.memory_feature(features[f], obs[i]->batch);
    y(i) = *obs[i]->values.get(t);
  }
  Fitted r;
  r.model.features = features;
  r.model.coefficients = fit_relative_nnls(X, y);
  const arma::rowvec pred = r.model.coefficients.t() * X;
  r.mape = arma::mean(arma::abs(pred - y) / y);
  return r;
}

double mape_of(const std::vector<double>& pred, const std::vector<double>& y) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += std::abs(pred[i] - y[i]) / y[i];
  return y.empty() ? 0 : s / static_cast<double>(y.size());
}

// Latency as max(host, device): the assignment of each sample to the side that dominates it
// and the two non-negative fits are alternated until the assignment settles.
LatencyModel fit_overlapped(const std::vector<arma::vec>& h, const std::vector<arma::vec>& d,
                            const std::vector<double>& y, const std::vector<int64_t>& batch) {
  const size_t n = y.size();
  LatencyModel m;
  m.overlap = true;
  m.host = arma::zeros(h[0].n_elem);
  m.device = arma::zeros(d[0].n_elem);
  // Start: the smallest batches are host-bound, the rest device-bound.
  std::vector<bool> host_bound(n);
  for (size_t i = 0; i < n; ++i) host_bound[i] = batch[i] <= 8;
  auto fit_side = [&](bool host) {
    const std::vector<arma::vec>& f = host ? h : d;
    std::vector<size_t> idx;
    for (size_t i = 0; i < n; ++i)
      if (host_bound[i] == host) idx.push_back(i);
    if (idx.size() < f[0].n_elem) return arma::vec(arma::zeros(f[0].n_elem));
    arma::mat X(f[0].n_elem, idx.size());
    arma::rowvec yy(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      X.col(k) = f[idx[k]];
      yy(k) = y[idx[k]];
    }
    return fit_relative_nnls(X, yy);
  };
  for (int iter = 0; iter < 100; ++iter) {
    m.host = fit_side(true);
    m.device = fit_side(false);
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      const bool hb = arma::dot(m.host, h[i]) > arma::dot(m.device, d[i]);
      changed |= hb != host_bound[i];
      host_bound[i] = hb;
    }
    if (!changed) break;
  }
  return m;
}

LatencyModel fit_summed(const std::vector<arma::vec>& h, const std::vector<arma::vec>& d,
                        const std::vector<double>& y) {
  const size_t nh = h[0].n_elem, nd = d[0].n_elem;
  arma::mat X(nh + nd, y.size());
  arma::rowvec yy(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    X.col(i) = arma::join_cols(h[i], d[i]);
    yy(i) = y[i];
  }
  const arma::vec w = fit_relative_nnls(X, yy);
  LatencyModel m;
  m.overlap = false;
  m.host = w.head(nh);
  m.device = w.tail(nd);
  return m;
}

LatencyModel fit_latency(const std::vector<const Observation*>& obs, const DeviceRuntime& runtime,
                         AnalysisCache& cache) {
  std::vector<arma::vec> h, d;
  std::vector<double> y;
  std::vector<int64_t> batch;
  for (const Observation* o : obs) {
    const NetworkAnalysis& a = cache.get(*o->net, runtime);
    h.push_back(a.host_terms().at(o->batch));
    d.push_back(a.device_terms().at(o->batch));
    y.push_back(*o->values.latency_ms);
    batch.push_back(o->batch);
  }
  const LatencyModel overlapped = fit_overlapped(h, d, y, batch);
  const LatencyModel summed = fit_summed(h, d, y);
  auto err = [&](const LatencyModel& m) {
    std::vector<double> p;
    for (size_t i = 0; i < y.size(); ++i) {
      const double hs = arma::dot(m.host, h[i]), ds = arma::dot(m.device, d[i]);
      p.push_back(m.overlap ? std::max(hs, ds) : hs + ds);
    }
    return mape_of(p, y);
  };
  return err(overlapped) <= err(summed) ? overlapped : summed;
}

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw std::invalid_argument(where + ": field \"" + key + "\" is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(where + ": field \"" + key + "\" has the wrong type");
  }
}

arma::vec finite_vec(const std::vector<double>& v, const std::string& where) {
  for (double x : v)
    if (!std::isfinite(x) || x < 0) throw std::invalid_argument(where + ": coefficients must be finite and non-negative");
  return arma::vec(v);
}

}  // namespace

double LinearMemoryModel::predict(const NetworkAnalysis& a, int64_t batch) const {
  double y = 0;
  for (size_t f = 0; f < features.size(); ++f) y += coefficients(f) * a.memory_feature(features[f], batch);
  return y;
}

double LatencyModel::predict(const NetworkAnalysis& a, int64_t batch) const {
  const double h = arma::dot(host, a.host_terms().at(batch));
  const double d = arma::dot(device, a.device_terms().at(batch));
  return overlap ? std::max(h, d) : h + d;
}

bool P4sModel::has(Target t) const {
  return t == Target::kLatencyMs ? latency.has_value() : memory.count(t) > 0;
}

std::optional<double> P4sModel::predict(const NetworkAnalysis& a, int64_t batch, Target t) const {
  if (t == Target::kLatencyMs) {
    if (!latency) return std::nullopt;
    return latency->predict(a, batch);
  }
  auto it = memory.find(t);
  if (it == memory.end()) return std::nullopt;
  return it->second.predict(a, batch);
}

P4sModel train_p4s_model(const std::vector<const Observation*>& train,
                         const std::vector<DeviceRuntime>& candidates, AnalysisCache& cache) {
  if (candidates.empty()) throw std::invalid_argument("train_p4s_model: no candidate runtimes");
  P4sModel m;
  m.runtime = candidates.front();
  const bool cuda = m.runtime.kind == DeviceKind::kCuda;
  bool anything = false;

  // mem_alloc, and the runtime semantics that explain it best.
  const auto alloc_obs = with_target(train, Target::kMemAlloc);
  if (!alloc_obs.empty()) {
    Fitted best;
    for (const DeviceRuntime& r : candidates) {
      Fitted f = fit_memory(alloc_obs, Target::kMemAlloc, {"one", "sim_peak"}, r, cache);
      if (f.mape < best.mape) {
        best = std::move(f);
        m.runtime = r;
      }
    }
    m.memory[Target::kMemAlloc] = best.model;
    anything = true;
  }
  // mem_reserved, and whether the cache was emptied before each step.
  const auto reserved_obs = with_target(train, Target::kMemReserved);
  if (cuda && !reserved_obs.empty()) {
    Fitted best;
    DeviceRuntime chosen = m.runtime;
    for (bool empty : {false, true}) {
      DeviceRuntime r = m.runtime;
      r.empty_cache_before_steps = empty;
      Fitted f = fit_memory(reserved_obs, Target::kMemReserved, {"one", "allocator_reserved"}, r, cache);
      if (f.mape < best.mape) {
        best = std::move(f);
        chosen = r;
      }
    }
    m.runtime = chosen;
    m.memory[Target::kMemReserved] = best.model;
    anything = true;
  }
  const auto used_obs = with_target(train, Target::kMemUsed);
  if (!used_obs.empty()) {
    const std::string base = cuda ? "allocator_reserved" : "sim_peak";
    m.memory[Target::kMemUsed] = fit_memory(used_obs, Target::kMemUsed, {"one", base}, m.runtime, cache).model;
    anything = true;
  }
  const auto latency_obs = with_target(train, Target::kLatencyMs);
  if (!latency_obs.empty()) {
    m.latency = fit_latency(latency_obs, m.runtime, cache);
    anything = true;
  }
  if (!anything) throw std::invalid_argument("train_p4s_model: no measurements to fit");

  // Capacity, on the memory target closest to what the device runs out of.
  for (Target t : {Target::kMemUsed, Target::kMemReserved, Target::kMemAlloc}) {
    if (!m.has(t)) continue;
    m.capacity_target = t;
    std::vector<std::pair<double, bool>> pf;
    for (const Observation* o : train)
      pf.emplace_back(*m.predict(cache.get(*o->net, m.runtime), o->batch, t), o->fits);
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
    targets[target_name(t)] = tj;
  }
  if (latency) {
    nlohmann::json tj;
    tj["combine"] = latency->overlap ? "max" : "sum";
    tj["host_terms"] = host_term_names();
    tj["host_coefficients"] = arma::conv_to<std::vector<double>>::from(latency->host);
    tj["device_terms"] = device_term_names();
    tj["device_coefficients"] = arma::conv_to<std::vector<double>>::from(latency->device);
    targets[target_name(Target::kLatencyMs)] = tj;
  }
  j["targets"] = targets;
  if (capacity_bytes) {
    j["capacity"] = {{"target", target_name(capacity_target)}, {"bytes", *capacity_bytes}};
  }
  return j;
}

P4sModel P4sModel::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("model: must be an object");
  P4sModel m;
  m.runtime = DeviceRuntime::from_json(get_field<nlohmann::json>(j, "runtime", "model"));
  const nlohmann::json targets = get_field<nlohmann::json>(j, "targets", "model");
  if (!targets.is_object()) throw std::invalid_argument("model: field \"targets\" must be an object");
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    const std::optional<Target> t = target_from_name(it.key());
    const std::string where = "model: target \"" + it.key() + "\"";
    if (!t) throw std::invalid_argument(where + ": unknown target");
    if (*t == Target::kLatencyMs) {
      LatencyModel lm;
      const std::string combine = get_field<std::string>(*it, "combine", where);
      if (combine != "max" && combine != "sum") throw std::invalid_argument(where + ": combine must be \"max\" or \"sum\"");
      lm.overlap = combine == "max";
      if (get_field<std::vector<std::string>>(*it, "host_terms", where) != host_term_names() ||
          get_field<std::vector<std::string>>(*it, "device_terms", where) != device_term_names())
        throw std::invalid_argument(where + ": cost terms differ from this version's");
      lm.host = finite_vec(get_field<std::vector<double>>(*it, "host_coefficients", where), where);
      lm.device = finite_vec(get_field<std::vector<double>>(*it, "device_coefficients", where), where);
      if (lm.host.n_elem != host_term_names().size() || lm.device.n_elem != device_term_names().size())
        throw std::invalid_argument(where + ": wrong number of coefficients");
      m.latency = lm;
    } else {
      LinearMemoryModel lm;
      lm.features = get_field<std::vector<std::string>>(*it, "features", where);
      for (const std::string& f : lm.features)
        if (!is_memory_feature(f)) throw std::invalid_argument(where + ": unknown feature \"" + f + "\"");
      if (m.runtime.kind != DeviceKind::kCuda &&
          std::find(lm.features.begin(), lm.features.end(), "allocator_reserved") != lm.features.end())
        throw std::invalid_argument(where + ": allocator_reserved needs a CUDA runtime");
      lm.coefficients = finite_vec(get_field<std::vector<double>>(*it, "coefficients", where), where);
      if (lm.coefficients.n_elem != lm.features.size())
        throw std::invalid_argument(where + ": features and coefficients differ in number");
      m.memory[*t] = lm;
    }
  }
  if (j.contains("capacity")) {
    const nlohmann::json& c = j["capacity"];
    const std::optional<Target> t = target_from_name(get_field<std::string>(c, "target", "model: capacity"));
    if (!t || *t == Target::kLatencyMs || !m.has(*t))
      throw std::invalid_argument("model: capacity: target must be a fitted memory target");
    m.capacity_target = *t;
    const double bytes = get_field<double>(c, "bytes", "model: capacity");
    if (!std::isfinite(bytes) || bytes <= 0) throw std::invalid_argument("model: capacity: bytes must be positive");
    m.capacity_bytes = bytes;
  }
  return m;
}

}  // namespace p4s::fit
