// The p4s model's part of a model file, and the reading of files written by earlier versions.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/input_error.hpp"
#include "predictors/p4s/latency_terms.hpp"
#include "predictors/p4s/p4s_model.hpp"

namespace p4s::predictors {
namespace {

using namespace latency_terms;

template <typename T>
T get_field(const nlohmann::json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw InputError(where + ": field \"" + key + "\" is missing");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(where + ": field \"" + key + "\" has the wrong type");
  }
}

arma::vec finite_vec(const std::vector<double>& v, const std::string& where) {
  for (double x : v)
    if (!std::isfinite(x) || x < 0) throw InputError(where + ": coefficients must be finite and non-negative");
  return arma::vec(v);
}

// Model files list their latency coefficients by name; those written before a coefficient
// existed list a prefix of today's names.
bool names_are_a_prefix(const std::vector<std::string>& names) {
  const std::vector<std::string>& now = latency_coefficient_names();
  return !names.empty() && names.size() <= now.size() && std::equal(names.begin(), names.end(), now.begin());
}

// How many of latency_coefficient_names() a file of each minor version of the current major
// lists: a coefficient added is a minor version (model_format.hpp).
constexpr size_t kLatencyCoefficientsByMinor[] = {12, 12, 13};
static_assert(std::size(kLatencyCoefficientsByMinor) == kModelFormatMinor + 1, "a count for each minor version");
static_assert(kLatencyCoefficientsByMinor[kModelFormatMinor] == kLatencyCoefficients, "the current minor lists all");

// Whether a file of `version` lists exactly these coefficient names.
bool names_as_written(const std::vector<std::string>& names, const ModelFormatVersion& version) {
  if (version.major == 1) return names_are_a_prefix(names);  // before major.minor: any prefix
  const size_t n = kLatencyCoefficientsByMinor[static_cast<size_t>(version.minor)];
  return names.size() == n && names_are_a_prefix(names);
}

// A coefficient that a model file lacks takes what weighed its quantities when the file was
// written, so that the file predicts what it did: the depthwise GEMM pass and a GPU's generic
// depthwise kernels were costed as the other depthwise taps (per_depthwise_flop_ms), grouped
// convolutions as the rest (per_tile_flop_ms); the others' quantities cost nothing then (0).
double stand_in(const arma::vec& coefficients, size_t lacking) {
  switch (lacking) {
    case kPerDepthwiseGemmFlop:
    case kPerGenericDepthwiseFlop: return coefficients(kPerDepthwiseFlop);
    case kPerGroupedFlop: return coefficients(kPerTileFlop);
    default: return 0.0;
  }
}

}  // namespace

nlohmann::json P4sModel::to_json() const {
  nlohmann::json j;
  j["runtime"] = runtime.to_json();
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [t, lm] : memory) {
    nlohmann::json tj;
    tj["features"] = lm.features;
    tj["coefficients"] = arma::conv_to<std::vector<double>>::from(lm.coefficients);
    if (lm.ceiling) tj["ceiling"] = *lm.ceiling;
    targets[results::target_name(t)] = tj;
  }
  if (latency) {
    nlohmann::json tj;
    tj["combine"] = combine_name(latency->combine);
    tj["coefficient_names"] = latency_coefficient_names();
    tj["coefficients"] = arma::conv_to<std::vector<double>>::from(latency->coefficients);
    tj["step_ms"] = latency->step_ms;
    tj["scale"] = latency->scale;
    tj["fitted_on"] = latency->from_layer_cases ? "layer cases" : "network cases";
    tj["small_batch_below"] = latency->small_batch_below;
    targets[results::target_name(results::Target::kLatencyMs)] = tj;
  }
  j["targets"] = targets;
  if (capacity_bytes) {
    j["capacity"] = {{"target", results::target_name(capacity_target)}, {"bytes", *capacity_bytes}};
  }
  return j;
}

P4sModel P4sModel::from_json(const nlohmann::json& j, const ModelFormatVersion& version) {
  if (!j.is_object()) throw InputError("model: must be an object");
  P4sModel m;
  m.runtime = sim::DeviceRuntime::from_json(get_field<nlohmann::json>(j, "runtime", "model"));
  const nlohmann::json targets = get_field<nlohmann::json>(j, "targets", "model");
  if (!targets.is_object()) throw InputError("model: field \"targets\" must be an object");
  for (auto it = targets.begin(); it != targets.end(); ++it) {
    const std::optional<results::Target> t = results::target_from_name(it.key());
    const std::string where = "model: target \"" + it.key() + "\"";
    if (!t) throw InputError(where + ": unknown target");
    if (*t == results::Target::kLatencyMs) {
      LatencyModel lm;
      const std::string combine = get_field<std::string>(*it, "combine", where);
      const std::optional<Combine> c = combine_from_name(combine);
      if (!c) throw InputError(where + ": combine must be \"sum\", \"max\" or \"pipeline\"");
      lm.combine = *c;
      const auto names = get_field<std::vector<std::string>>(*it, "coefficient_names", where);
      if (!names_as_written(names, version))
        throw InputError(where + ": coefficient names differ from those of format version " + version.text());
      lm.coefficients = finite_vec(get_field<std::vector<double>>(*it, "coefficients", where), where);
      if (lm.coefficients.n_elem != names.size())
        throw InputError(where + ": wrong number of coefficients");
      lm.coefficients.resize(latency_coefficient_names().size());
      for (size_t i = names.size(); i < lm.coefficients.n_elem; ++i) lm.coefficients(i) = stand_in(lm.coefficients, i);
      lm.step_ms = get_field<double>(*it, "step_ms", where);
      lm.scale = get_field<double>(*it, "scale", where);
      if (!std::isfinite(lm.step_ms) || lm.step_ms < 0 || !std::isfinite(lm.scale) || lm.scale < 0)
        throw InputError(where + ": step_ms and scale must be finite and non-negative");
      const std::string on = get_field<std::string>(*it, "fitted_on", where);
      if (on != "layer cases" && on != "network cases")
        throw InputError(where + ": fitted_on must be \"layer cases\" or \"network cases\"");
      lm.from_layer_cases = on == "layer cases";
      if (it->contains("small_batch_below")) {  // absent in files written before it: none
        const nlohmann::json& below = (*it)["small_batch_below"];
        if (!below.is_number_integer() || below.get<int64_t>() < 0)
          throw InputError(where + ": small_batch_below must be a non-negative integer");
        lm.small_batch_below = below.get<int64_t>();
      }
      m.latency = lm;
    } else {
      LinearMemoryModel lm;
      lm.features = get_field<std::vector<std::string>>(*it, "features", where);
      for (const std::string& f : lm.features)
        if (!sim::is_memory_feature(f)) throw InputError(where + ": unknown feature \"" + f + "\"");
      if (m.runtime.kind != sim::DeviceKind::kCuda &&
          std::find(lm.features.begin(), lm.features.end(), "allocator_reserved") != lm.features.end())
        throw InputError(where + ": allocator_reserved needs a CUDA runtime");
      lm.coefficients = finite_vec(get_field<std::vector<double>>(*it, "coefficients", where), where);
      if (lm.coefficients.n_elem != lm.features.size())
        throw InputError(where + ": features and coefficients differ in number");
      if (it->contains("ceiling")) {
        const double c = get_field<double>(*it, "ceiling", where);
        if (!std::isfinite(c) || c <= 0) throw InputError(where + ": ceiling must be positive");
        lm.ceiling = c;
      }
      m.memory[*t] = lm;
    }
  }
  if (j.contains("capacity")) {
    const nlohmann::json& c = j["capacity"];
    const std::optional<results::Target> t = results::target_from_name(get_field<std::string>(c, "target", "model: capacity"));
    if (!t || *t == results::Target::kLatencyMs || !m.has(*t))
      throw InputError("model: capacity: target must be a fitted memory target");
    m.capacity_target = *t;
    const double bytes = get_field<double>(c, "bytes", "model: capacity");
    if (!std::isfinite(bytes) || bytes <= 0) throw InputError("model: capacity: bytes must be positive");
    m.capacity_bytes = bytes;
  }
  return m;
}

}  // namespace p4s::predictors
