// Model files: a fitted predictor as versioned JSON (model_format.hpp). A file holds the
// method, what it was fitted on (a digest of the measurements and the networks behind them,
// their families, the device's context), and the method's parameters: the project's
// coefficients and runtime, or the baseline's trees. Fitting is deterministic, so the same data
// gives the same bytes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "predictors/model_format.hpp"
#include "predictors/observations.hpp"
#include "predictors/predictor.hpp"

namespace p4s::predictors {

struct ModelFile {
  std::string data_digest;  // of the measurements and NetSpecs fitted on (data_digest())
  size_t measurements = 0;  // network cases fitted on (ran or out of memory)
  std::vector<std::string> families;
  // The recipes of the steps fitted on (recipes_of()); a file without any (format 2.0 and
  // older) means the default recipe only.
  std::vector<results::Recipe> recipes{results::default_recipe()};
  std::map<std::string, std::string> device;  // the results' context
  std::shared_ptr<const Predictor> predictor;  // never null in a file read or written
  ModelFormatVersion version = current_model_format();  // as read; files are written in the current one

  Method method() const { return predictor->method(); }
  // The targets the model predicts, in kAllTargets order.
  std::vector<results::Target> targets() const { return predictor->targets(); }
};

// "fnv1a64:<16 hex digits>" over a canonical text of the observations (sorted) and of the
// NetSpecs of their networks: equal data gives equal digests on every platform.
std::string data_digest(const std::vector<Observation>& observations);

// The format version a model is written in: the current one (every p4s model lists all the
// latency coefficients of its version).
ModelFormatVersion format_for(const ModelFile& model);

// Throws std::runtime_error naming the field ("field \"model.capacity.bytes\": not a finite number
// ...") for a NaN or an infinity anywhere in the model: JSON cannot hold them.
std::string model_to_json(const ModelFile& model);
// Parses and checks a model file's text; `source` names it in errors. Refuses other formats,
// other major versions and newer minor ones.
ModelFile parse_model(const std::string& text, const std::string& source);
ModelFile read_model(const std::string& path);
// Writes atomically (a temporary file renamed over the target). Throws std::runtime_error (the
// path, then model_to_json's reason) for a model with a non-finite number, writing nothing.
void write_model(const ModelFile& model, const std::string& path);

}  // namespace p4s::predictors
