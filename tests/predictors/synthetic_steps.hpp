// Training steps made by the simulation itself, for the tests of the predictors and of their
// evaluation: data whose truth is known, so that a fit can be checked to recover it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelgen/network_library.hpp"
#include "predictors/observations.hpp"
#include "sim/device_runtime.hpp"

namespace p4s::test {

// Observations and the networks they point into (not copyable: the observations point into
// the library), with the runtime that made them.
struct Steps {
  modelgen::NetworkLibrary library;
  std::vector<predictors::Observation> obs;
  sim::DeviceRuntime truth;
};

// Synthetic CPU measurements of seven built-in networks of five families at batch 1, 4, 16
// and 64: mem_alloc is the simulated peak under `truth`; latency a known sum of cost terms
// (every layer's dispatch plus its work); mem_used a fixed footprint plus the peak.
void make_synthetic_steps(Steps& s);

// Adds observations of `nets` at `batches` with values made by the simulation on the first
// CPU candidate: mem_alloc = alloc_scale * peak + alloc_fixed, latency = latency_per_op * ops
// + latency_fixed (the dispatch side of the latency model alone, so that it fits exactly); each
// step trained by `recipe`.
void add_simulated_steps(Steps& s, const std::vector<std::string>& nets, const std::vector<int64_t>& batches,
                         double alloc_scale, double alloc_fixed, double latency_per_op, double latency_fixed,
                         const results::Recipe& recipe = results::default_recipe());

// Pointers to each observation, as the fitting functions take them.
std::vector<const predictors::Observation*> pointers(const std::vector<predictors::Observation>& v);

// The runtimes a fit on LibTorch 1.13 CPU results with one thread chooses among.
std::vector<sim::DeviceRuntime> cpu_candidates();

}  // namespace p4s::test
