// The measurements a fit learns from: each network case of the results, with its NetSpec
// resolved and its family named (the text of its name before the first '_').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "modelgen/network_library.hpp"
#include "results_format/measurements.hpp"

namespace p4s::predictors {

struct Observation {
  const modelgen::ResolvedNet* net = nullptr;
  std::string family;
  int64_t batch = 0;
  bool fits = true;  // false: the step ran out of memory
  results::Measured values;
  results::Recipe recipe;  // what the step trained by
};

// One observation per network case of `results`. Throws InputError naming the first
// network that `library` cannot resolve.
std::vector<Observation> make_observations(const results::ResultSet& results, modelgen::NetworkLibrary& library);

// The families present, sorted.
std::vector<std::string> families_of(const std::vector<Observation>& observations);

// The recipes present, sorted (recipe order), each once.
std::vector<results::Recipe> recipes_of(const std::vector<Observation>& observations);

}  // namespace p4s::predictors
