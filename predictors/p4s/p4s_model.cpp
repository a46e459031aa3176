#include "predictors/p4s/p4s_model.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/input_error.hpp"
#include "predictors/capacity.hpp"
#include "predictors/p4s/latency_fit.hpp"

namespace p4s::predictors {

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
    MemoryFit best;
    for (const sim::DeviceRuntime& r : candidates) {
      MemoryFit f = fit_memory(alloc_obs, results::Target::kMemAlloc, {"one", "sim_peak"}, r, cache);
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
    MemoryFit best;
    sim::DeviceRuntime chosen = m.runtime;
    for (bool empty : {false, true}) {
      sim::DeviceRuntime r = m.runtime;
      r.empty_cache_before_steps = empty;
      MemoryFit f = fit_memory(reserved_obs, results::Target::kMemReserved, {"one", "allocator_reserved"}, r, cache, reached_limit);
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
      pf.emplace_back(*m.demand(cache.get(*o->net, m.runtime, o->recipe), o->batch, t), o->fits);
    m.capacity_bytes = fit_capacity(pf);
    break;
  }
  return m;
}

}  // namespace p4s::predictors
