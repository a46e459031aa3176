// Everything the project's predictors need to know about one network on one device runtime,
// trained by one recipe, computed once: the simulated peak as a function of the batch (memory_envelope.hpp), the
// caching allocator's reservation (replayed per batch size on first use, then remembered),
// and the per-layer latency cost quantities. Predictions then take microseconds.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "modelgen/network_library.hpp"
#include "sim/cost_terms.hpp"
#include "sim/device_runtime.hpp"
#include "sim/memory_envelope.hpp"
#include "sim/memory_sim.hpp"

namespace p4s::sim {

class NetworkAnalysis {
 public:
  // Throws InputError for a recipe the simulation does not cover (simulate_training_step).
  NetworkAnalysis(const modelgen::ResolvedNet& net, const DeviceRuntime& runtime,
                  const results::Recipe& recipe = results::default_recipe());

  const modelgen::ResolvedNet& net() const { return net_; }
  const DeviceRuntime& runtime() const { return runtime_; }
  const results::Recipe& recipe() const { return recipe_; }

  // The simulated peak of live bytes of a steady-state step (allocation rounding included).
  double sim_peak_bytes(int64_t batch) const { return envelope_.peak_bytes(batch); }
  // The simulated step itself at `batch`: its peak (what sim_peak_bytes follows, within the
  // allocation rounding of the live tensors), where it happens and what is live then. Throws
  // std::out_of_range for a batch beyond max_batch().
  MemorySimResult simulate(int64_t batch) const;
  // What the CUDA caching allocator reserves at its peak during a step that follows a
  // warm-up step. Precondition: a CUDA runtime. Throws std::out_of_range for a batch beyond
  // max_batch() (the simulation's byte counts could overflow).
  double allocator_reserved_bytes(int64_t batch) const;

  // Per-layer latency cost quantities (cost_terms.hpp).
  const std::vector<LayerCost>& layer_costs() const { return costs_; }

  // A memory feature by name: "one", "sim_peak", "allocator_reserved".
  // Throws std::invalid_argument for other names, std::out_of_range for a batch beyond
  // max_batch().
  double memory_feature(const std::string& name, int64_t batch) const;

  // The largest batch this network can be predicted at (predictable.hpp).
  int64_t max_batch() const { return max_batch_; }

 private:
  void check_batch(int64_t batch) const;

  const modelgen::ResolvedNet& net_;
  DeviceRuntime runtime_;
  results::Recipe recipe_;
  std::unique_ptr<MemoryBackend> backend_;
  MemoryEnvelope envelope_;
  std::vector<LayerCost> costs_;
  int64_t max_batch_;
  mutable std::mutex mu_;
  mutable std::map<int64_t, double> reserved_;
};

// The kernel-path options of a runtime for the latency cost terms.
CostOptions cost_options(const DeviceRuntime& runtime);

// Analyses by (network, runtime, recipe), made on first use.
class AnalysisCache {
 public:
  NetworkAnalysis& get(const modelgen::ResolvedNet& net, const DeviceRuntime& runtime,
                       const results::Recipe& recipe = results::default_recipe());

 private:
  std::map<std::string, std::unique_ptr<NetworkAnalysis>> cache_;
};

// The memory features a model may use, in the order the fit considers them.
bool is_memory_feature(const std::string& name);

}  // namespace p4s::sim
