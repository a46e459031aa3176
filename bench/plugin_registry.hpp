// The plugin's registrations (include/perf4sight/benchmark.hpp): networks given by a user's
// code, kept until the run is set up and then registered with Google Benchmark as the suite's
// network cases, and the sweeps whose layer cases are to run. Checked when added, so that a bad
// name or batch size is the registering call's error.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench/networks.hpp"
#include "bench/registration.hpp"
#include "bench/run_case.hpp"
#include "modelgen/netspec.hpp"
#include "modelgen/torch/training_step.hpp"
#include "results_format/recipe.hpp"

namespace p4s::bench {

using ModuleFactory = std::function<torch::nn::AnyModule()>;

// A user's module and what it trains on.
struct ModuleNet {
  std::string name;
  ModuleFactory factory;
  modelgen::InputSpec input;
  int64_t classes = 0;
};

// How a network's cases run.
struct NetCases {
  std::vector<int64_t> batches;           // empty: the run's
  std::optional<results::Recipe> recipe;  // unset: the run's
  modelgen_torch::LossFn loss;            // unset: cross-entropy
};

// What the registrations are registered against: the run's settings (device, meter, timer,
// recipe), the batch sizes of a network given none, and where to write each network's NetSpec.
struct PluginRun {
  RunSettings settings;
  std::vector<int64_t> default_batches;
  std::optional<std::string> netspec_out;  // a folder: <name>.json for each network
};

class PluginRegistry {
 public:
  // Throws InputError (naming `source`) for a name that cannot stand in a case name or is
  // already registered, a batch size below 1, or a spec that infer_shapes refuses.
  void add_netspec(modelgen::NetSpec spec, const std::string& source, NetCases cases);
  // Throws InputError as add_netspec, and for input sizes or classes below 1 or no factory.
  void add_module(ModuleNet net, NetCases cases);
  // Throws InputError for a name that is no sweep preset.
  void add_layer_sweep(const std::string& sweep);

  // Registers what was added since the last call with Google Benchmark, skipping the case
  // names in `skip`. With run.netspec_out, writes each network's NetSpec there first (a
  // module's as describe_module gives it; one that cannot be described is said on stderr and
  // has no flops counter). Throws InputError for a recipe the run cannot combine (fp16 on the
  // CPU) or an unwritable folder.
  RegisteredCases register_pending(const PluginRun& run, const std::set<std::string>& skip = {});

  bool empty() const { return nets_.empty() && sweeps_.empty(); }

 private:
  struct Entry;
  void check_new_name(const std::string& name, const std::string& source) const;

  std::vector<std::shared_ptr<Entry>> nets_;  // in registration order
  std::vector<std::string> sweeps_;
  size_t registered_nets_ = 0;
  size_t registered_sweeps_ = 0;
};

// The module as a NetSpec (modelgen_torch::import_traced_module on a module built by
// `net.factory`). Throws InputError naming the module.
modelgen::NetSpec describe_module(const ModuleNet& net);

}  // namespace p4s::bench
