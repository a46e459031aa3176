// Result files and the networks they name, read for a command that learns from or is judged
// on them (fit, evaluate); what cannot be read is a InputError naming the file and the field.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "modelgen/network_library.hpp"
#include "predictors/observations.hpp"
#include "results_format/reader.hpp"

namespace p4s::cli {

struct LoadedResults {
  results::ResultSet results;
  std::unique_ptr<modelgen::NetworkLibrary> library;  // the observations point into it
  std::vector<predictors::Observation> observations;    // at least one, each predictable
};

// Reads `files` and resolves their networks from `netspec_dirs` or the built-in families.
LoadedResults load_results(const std::vector<std::string>& files, const std::vector<std::string>& netspec_dirs);

// The result files, for messages: one name, or the first and how many more.
std::string sources_text(const std::vector<std::string>& sources);

}  // namespace p4s::cli
