#include "sim/network_analysis.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sim/predictable.hpp"

namespace p4s::sim {

CostOptions cost_options(const DeviceRuntime& runtime) {
  CostOptions o;
  o.cpu = runtime.kind == DeviceKind::kCpu;
  o.cpu_threads = runtime.cpu_threads;
  if (o.cpu) o.channel_tile = runtime.cpu_channel_block;  // oneDNN's blocks
  return o;
}

NetworkAnalysis::NetworkAnalysis(const modelgen::ResolvedNet& net, const DeviceRuntime& runtime,
                                 const results::Recipe& recipe)
    : net_(net),
      runtime_(runtime),
      recipe_(recipe),
      backend_(runtime.backend()),
      envelope_(net.spec, net.shapes, *backend_, runtime.sim_options(), recipe),
      costs_(sim::layer_costs(net.spec, net.shapes, cost_options(runtime), recipe)),
      max_batch_(max_predictable_batch(net.shapes)) {}

double NetworkAnalysis::allocator_reserved_bytes(int64_t batch) const {
  if (runtime_.kind != DeviceKind::kCuda)
    throw std::logic_error("allocator_reserved_bytes: the runtime is not CUDA");
  check_batch(batch);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = reserved_.find(batch);
    if (it != reserved_.end()) return it->second;
  }
  RuntimeOptions o = runtime_.sim_options();
  o.round_bytes = 1;  // the allocator model rounds
  o.warmup_steps = 1;
  o.record_events = true;
  const MemorySimResult sim = simulate_training_step(net_.spec, net_.shapes, batch, *backend_, o, recipe_);
  const double reserved = static_cast<double>(replay_caching_allocator(sim.events, runtime_.allocator()).peak_reserved_bytes);
  std::lock_guard<std::mutex> lock(mu_);
  reserved_[batch] = reserved;
  return reserved;
}

MemorySimResult NetworkAnalysis::simulate(int64_t batch) const {
  check_batch(batch);
  return simulate_training_step(net_.spec, net_.shapes, batch, *backend_, runtime_.sim_options(), recipe_);
}

void NetworkAnalysis::check_batch(int64_t batch) const {
  if (batch > max_batch_)
    throw std::out_of_range(net_.spec.name + ": batch " + std::to_string(batch) +
                            " is beyond what can be predicted (at most " + std::to_string(max_batch_) + ")");
}

double NetworkAnalysis::memory_feature(const std::string& name, int64_t batch) const {
  check_batch(batch);
  if (name == "one") return 1.0;
  if (name == "sim_peak") return sim_peak_bytes(batch);
  if (name == "allocator_reserved") return allocator_reserved_bytes(batch);
  throw std::invalid_argument("unknown memory feature \"" + name + "\"");
}

bool is_memory_feature(const std::string& name) {
  return name == "one" || name == "sim_peak" || name == "allocator_reserved";
}

NetworkAnalysis& AnalysisCache::get(const modelgen::ResolvedNet& net, const DeviceRuntime& runtime,
                                    const results::Recipe& recipe) {
  std::string key = net.spec.name + "\n" + runtime.to_json().dump();
  if (recipe != results::default_recipe()) {
    for (const auto& [k, v] : results::recipe_context(recipe)) key += "\n" + k + "=" + v;
  }
  auto it = cache_.find(key);
  if (it != cache_.end()) return *it->second;
  auto a = std::make_unique<NetworkAnalysis>(net, runtime, recipe);
  NetworkAnalysis& ref = *a;
  cache_.emplace(key, std::move(a));
  return ref;
}

}  // namespace p4s::sim
