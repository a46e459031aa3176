#include "predictors/model_file.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "common/atomic_file.hpp"
#include "common/input_error.hpp"
#include "common/json_integer.hpp"
#include "common/number_text.hpp"
#include "modelgen/netspec_io.hpp"

namespace p4s::predictors {
namespace {

void fnv1a(uint64_t& h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The first number in `j` that is not finite (NaN or an infinity), as its field's path, e.g.
// "model.targets.mem_alloc.coefficients[1]"; empty when every number is finite. JSON has no
// such numbers: written, they would become null and the file would not read back.
std::string nonfinite_field(const nlohmann::json& j, const std::string& path) {
  if (j.is_number_float()) return std::isfinite(j.get<double>()) ? std::string() : path;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string found = nonfinite_field(*it, path.empty() ? it.key() : path + "." + it.key());
      if (!found.empty()) return found;
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      std::string found = nonfinite_field(j[i], path + "[" + std::to_string(i) + "]");
      if (!found.empty()) return found;
    }
  }
  return {};
}

// A recipe as fitted_on.recipes lists it: the context's keys without their "p4s_" prefix,
// numbers as numbers.
nlohmann::json recipe_to_json(const results::Recipe& r) {
  // The optimizer's implementation and zero_grad's mode only where not the bench's: files
  // written before they existed stay as they were.
  nlohmann::json j = {{"optimizer", results::optimizer_name(r.optimizer)},
          {"lr", r.lr},
          {"momentum", r.momentum},
          {"weight_decay", r.weight_decay},
          {"betas", {r.beta1, r.beta2}},
          {"eps", r.eps},
          {"precision", results::precision_name(r.precision)},
          {"train_from", r.train_from},
          {"freeze_bn", r.freeze_bn}};
  if (r.optimizer_impl != results::OptimizerImpl::kLibTorch)
    j["optimizer_impl"] = results::optimizer_impl_name(r.optimizer_impl);
  if (r.zero_grad_to_none) j["zero_grad"] = "none";
  return j;
}

// Read back through the context's checks; the error names the key (empty when fine).
std::string recipe_from_json(const nlohmann::json& j, results::Recipe& r) {
  if (!j.is_object()) return "must be an object";
  std::map<std::string, std::string> context;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& v = *it;
    std::string text;
    if (it.key() == "betas") {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
        return "field \"betas\": must be two numbers";
      text = number(v[0].get<double>()) + "," + number(v[1].get<double>());
    } else if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_boolean()) {
      text = v.get<bool>() ? "1" : "0";
    } else if (v.is_number()) {
      text = number(v.get<double>());
    } else {
      return "field \"" + it.key() + "\": must be a string, a number or true / false";
    }
    context["p4s_" + it.key()] = text;
  }
  std::string error = results::recipe_from_context(context, r);
  // "field \"context.p4s_lr\": ..." -> "field \"lr\": ..."
  const std::string prefix = "field \"context.p4s_";
  if (error.rfind(prefix, 0) == 0) error = "field \"" + error.substr(prefix.size());
  return error;
}

bool only_the_default_recipe(const std::vector<results::Recipe>& recipes) {
  return recipes.size() == 1 && recipes[0] == results::default_recipe();
}

}  // namespace

ModelFormatVersion format_for(const ModelFile&) { return current_model_format(); }

std::string data_digest(const std::vector<Observation>& observations) {
  std::vector<std::string> lines;
  std::set<std::string> nets;
  for (const Observation& o : observations) {
    std::string l = o.net->spec.name + " " + std::to_string(o.batch) + (o.fits ? " ran" : " oom");
    for (results::Target t : results::kAllTargets) {
      const auto& v = o.values.get(t);
      l += " " + (v ? number(*v) : std::string("-"));
    }
    // The recipe where it is not the default (digests of default-recipe data stay as they were).
    if (o.recipe != results::default_recipe())
      for (const auto& [key, value] : results::recipe_context(o.recipe)) l += " " + key + "=" + value;
    lines.push_back(l);
    nets.insert(o.net->spec.name);
  }
  std::sort(lines.begin(), lines.end());
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::string& l : lines) fnv1a(h, l + "\n");
  // The networks' definitions, by name (sorted), in their canonical written form.
  std::map<std::string, const modelgen::ResolvedNet*> by_name;
  for (const Observation& o : observations) by_name[o.net->spec.name] = o.net;
  for (const auto& [name, net] : by_name) fnv1a(h, modelgen::netspec_to_json(net->spec));
  char buf[40];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016" PRIx64, h);
  return buf;
}

std::string model_to_json(const ModelFile& m) {
  nlohmann::json j;
  j["format"] = {{"name", kModelFormatName}, {"version", format_for(m).text()}};
  j["method"] = method_name(m.method());
  j["fitted_on"] = {{"digest", m.data_digest}, {"measurements", m.measurements}, {"families", m.families}};
  if (!only_the_default_recipe(m.recipes)) {
    nlohmann::json& recipes = j["fitted_on"]["recipes"] = nlohmann::json::array();
    for (const results::Recipe& r : m.recipes) recipes.push_back(recipe_to_json(r));
  }
  j["device"] = m.device;
  std::vector<std::string> targets;
  for (results::Target t : m.targets()) targets.push_back(results::target_name(t));
  j["targets"] = targets;
  j["model"] = m.predictor->to_json();
  const std::string bad = nonfinite_field(j, "");
  if (!bad.empty()) {
    throw std::runtime_error("field \"" + bad + "\": not a finite number; a model with NaN or Infinity is not written");
  }
  return j.dump(1) + "\n";
}

namespace {

// Model files nest a few levels deep (a forest's trees: 5); deeper JSON is refused.
constexpr int kMaxModelJsonDepth = 64;

ModelFile parse_model_json(const nlohmann::json& j, const std::string& source);

}  // namespace

ModelFile parse_model(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxModelJsonDepth)
        throw InputError(source + ": JSON nested deeper than " + std::to_string(kMaxModelJsonDepth) +
                             " levels: not a p4s model file");
      return true;
    });
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(source + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::exception& e) {
    // Failures without a position, e.g. a number beyond the range of double.
    const std::string what = e.what();
    const size_t bracket = what.find("] ");
    throw InputError(source + ": not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  try {
    return parse_model_json(j, source);
  } catch (const nlohmann::json::exception& e) {
    // A field of an unexpected type that no check above caught: still one line, still exit 2.
    const std::string what = e.what();
    const size_t bracket = what.find("] ");
    throw InputError(source + ": malformed model: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
}

namespace {

// The version of a file's "format": the integer 1 of files written before major.minor, or
// "major.minor" of the current major and a minor not newer than this reader's.
template <typename Fail>
ModelFormatVersion read_version(const nlohmann::json& format, const Fail& fail) {
  if (!format.contains("version")) throw fail("format.version", "is missing");
  const nlohmann::json& v = format["version"];
  if (v.is_number_integer()) {
    if (v.get<int64_t>() == 1) return ModelFormatVersion{1, 0};
    throw fail("format.version", "unknown version " + v.dump());
  }
  if (!v.is_string()) throw fail("format.version", "must be \"major.minor\"");
  const std::string text = v.get<std::string>();
  const size_t dot = text.find('.');
  const std::optional<int> major = dot == std::string::npos ? std::nullopt : parse_integer<int>(text.substr(0, dot));
  const std::optional<int> minor = dot == std::string::npos ? std::nullopt : parse_integer<int>(text.substr(dot + 1));
  if (!major || !minor || *major < 0 || *minor < 0) throw fail("format.version", "\"" + text + "\" is not \"major.minor\"");
  const ModelFormatVersion current = current_model_format();
  if (*major > current.major || (*major == current.major && *minor > current.minor))
    throw fail("format.version", "version " + text + " is newer than this reader understands (" + current.text() + ")");
  if (*major != current.major) throw fail("format.version", "unknown version " + text);
  return ModelFormatVersion{*major, *minor};
}

ModelFile parse_model_json(const nlohmann::json& j, const std::string& source) {
  auto fail = [&](const std::string& field, const std::string& problem) -> InputError {
    return InputError(source + ": field \"" + field + "\": " + problem);
  };
  if (!j.is_object() || !j.contains("format") || !j["format"].is_object())
    throw fail("format", "missing: not a p4s model file");
  const nlohmann::json& f = j["format"];
  if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>() != kModelFormatName)
    throw fail("format.name", std::string("must be \"") + kModelFormatName + "\"");
  ModelFile m;
  m.version = read_version(f, fail);
  if (!j.contains("method") || !j["method"].is_string()) throw fail("method", "must be a string");
  const std::string method = j["method"].get<std::string>();
  const std::optional<Method> known = method_from_name(method);
  if (!known) throw fail("method", "must be \"p4s\" or \"perf4sight\", got \"" + method + "\"");
  try {
    const nlohmann::json& on = j.at("fitted_on");
    m.data_digest = on.at("digest").get<std::string>();
    const std::optional<size_t> n = json_integer<size_t>(on.at("measurements"));
    if (!n) throw fail("fitted_on.measurements", "must be a non-negative integer");
    m.measurements = *n;
    m.families = on.at("families").get<std::vector<std::string>>();
    if (j.contains("device")) m.device = j["device"].get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception&) {
    throw fail("fitted_on", "must hold digest, measurements and families; device must map strings to strings");
  }
  if (j["fitted_on"].contains("recipes")) {
    const nlohmann::json& list = j["fitted_on"]["recipes"];
    if (m.version.major < 2 || (m.version.major == 2 && m.version.minor < 1))
      throw fail("fitted_on.recipes", "is not part of format version " + m.version.text() + " (2.1 on)");
    if (!list.is_array() || list.empty()) throw fail("fitted_on.recipes", "must be a non-empty list");
    m.recipes.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      results::Recipe r;
      const std::string error = recipe_from_json(list[i], r);
      if (!error.empty()) throw fail("fitted_on.recipes[" + std::to_string(i) + "]", error);
      m.recipes.push_back(r);
    }
  }
  if (!j.contains("model")) throw fail("model", "is missing");
  try {
    m.predictor = predictor_from_json(*known, j["model"], m.version);
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  if (m.predictor->targets().empty()) throw fail("model", "fits no target");
  return m;
}

}  // namespace

ModelFile read_model(const std::string& path) {
  std::string text;
  try {
    text = p4s::read_file(path);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw InputError(path + ": the file is empty");
  return parse_model(text, path);
}

void write_model(const ModelFile& model, const std::string& path) {
  std::string text;
  try {
    text = model_to_json(model);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  p4s::write_file_atomically(path, text);
}

}  // namespace p4s::predictors
