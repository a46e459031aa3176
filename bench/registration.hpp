// Registers the sweep's layer cases and the networks' cases with Google Benchmark
// (RegisterBenchmark with Args/ArgNames), all measured by run_case.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bench/networks.hpp"
#include "bench/run_case.hpp"
#include "bench/sweep.hpp"
#include "modelgen/torch/training_step.hpp"

namespace p4s::bench {

// Layer cases: for each kind, each shape of the sweep at each of its layer batch sizes, named
// <Kind>/<arg>:<value>/.../bs:<N>. Network cases: each network at each of its own batch sizes
// (BenchNet::batches), or of `net_batches` when it has none, named Net/<net>/bs:<N>; with the
// run's recipe the default one, the sweep's recipes (Sweep::recipes) on those of their networks
// that are loaded, named Net/<net>/bs:<N>/<recipe parts>.
// `settings` (meter, timer) must outlive the run of the benchmarks. Cases named in `skip` (those
// a resumed results file holds) are not registered.
struct RegisteredCases {
  std::vector<std::string> registered;  // the case names, in registration order
  std::vector<std::string> skipped;
};
RegisteredCases register_cases(const Sweep& sweep, const std::vector<BenchNet>& nets,
                               const std::vector<int64_t>& net_batches, const RunSettings& settings,
                               const std::set<std::string>& skip = {});

// One network case trained by `recipe`: the whole-network step (modelgen_torch::TrainingStep),
// `name` its case name; `loss` replaces cross-entropy where given.
PreparedCase net_case(const std::shared_ptr<const BenchNet>& net, int64_t batch, const c10::Device& device,
                      const results::Recipe& recipe, std::string name, modelgen_torch::LossFn loss = nullptr);

}  // namespace p4s::bench
