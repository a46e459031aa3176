#include "sweep_guard/prior_results.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>

#include "common/atomic_file.hpp"
#include "common/input_error.hpp"
#include "results_format/reader.hpp"

namespace p4s::sweep_guard {
namespace {

using json = nlohmann::ordered_json;

// Google Benchmark's output nests 4 levels deep; deeper JSON is no results file.
constexpr int kMaxJsonDepth = 64;

// Google Benchmark's parts of a run name: the timing kind and the per-benchmark settings.
bool is_benchmark_part(std::string_view part) {
  static constexpr std::string_view kWhole[] = {"manual_time", "real_time", "process_time"};
  static constexpr std::string_view kKeyed[] = {"repeats:", "iterations:", "threads:", "min_time:",
                                                "min_warmup_time:"};
  if (std::find(std::begin(kWhole), std::end(kWhole), part) != std::end(kWhole)) return true;
  return std::any_of(std::begin(kKeyed), std::end(kKeyed),
                     [&](std::string_view k) { return part.substr(0, k.size()) == k; });
}

std::string as_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

std::string case_name_of_run(std::string_view run_name) {
  while (true) {
    const size_t slash = run_name.rfind('/');
    if (slash == std::string_view::npos || !is_benchmark_part(run_name.substr(slash + 1))) break;
    run_name = run_name.substr(0, slash);
  }
  return std::string(run_name);
}

PriorResults parse_prior_results(std::string_view text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(results::null_nonfinite_tokens(std::string(text)), [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) throw json::out_of_range::create(406, "nested too deeply", nullptr);
      return true;
    });
  } catch (const json::exception&) {
    throw InputError(source, "", "not valid JSON: not a results file to resume");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    throw InputError(source, "field \"benchmarks\"", "missing or not a list: not a results file to resume");
  PriorResults out;
  if (doc.contains("context")) {
    if (!doc["context"].is_object()) throw InputError(source, "field \"context\"", "not an object");
    for (auto it = doc["context"].begin(); it != doc["context"].end(); ++it) out.context[it.key()] = as_text(*it);
  }
  size_t i = 0;
  for (const json& e : doc["benchmarks"]) {
    const std::string where = "field \"benchmarks[" + std::to_string(i++) + "]\"";
    if (!e.is_object()) throw InputError(source, where, "not an object");
    const char* key = e.contains("run_name") ? "run_name" : "name";
    if (!e.contains(key) || !e[key].is_string() || e[key].get<std::string>().empty())
      throw InputError(source, where, "has no \"name\": not a results file to resume");
    const std::string run_name = e[key].get<std::string>();
    const std::string case_name = case_name_of_run(run_name);
    out.done.insert(case_name.empty() ? run_name : case_name);
    out.entries.push_back(e.dump(2));
  }
  return out;
}

PriorResults read_prior_results(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::runtime_error& e) {
    throw InputError(e.what());
  }
  return parse_prior_results(text, path);
}

bool is_run_state_key(std::string_view key) { return key == kResumesKey || key.substr(0, 10) == "p4s_state_"; }

std::optional<std::string> context_difference(const std::map<std::string, std::string>& in_file,
                                              const std::map<std::string, std::string>& now) {
  std::set<std::string> keys;
  for (const auto& kv : in_file) keys.insert(kv.first);
  for (const auto& kv : now) keys.insert(kv.first);
  for (const std::string& k : keys) {
    if (is_run_state_key(k) || (k.rfind("p4s_", 0) != 0 && k != "host_name")) continue;
    const auto a = in_file.find(k), b = now.find(k);
    const std::string old_value = a == in_file.end() ? "(none)" : "\"" + printable(a->second) + "\"";
    const std::string new_value = b == now.end() ? "(none)" : "\"" + printable(b->second) + "\"";
    if (old_value != new_value) return k + ": " + old_value + " in the file, " + new_value + " now";
  }
  return std::nullopt;
}

}  // namespace p4s::sweep_guard
