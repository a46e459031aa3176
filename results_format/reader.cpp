#include "results_format/reader.hpp"

#include "common/input_error.hpp"

#include <algorithm>
#include <climits>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/atomic_file.hpp"
#include "common/json_integer.hpp"
#include "common/number_text.hpp"

namespace p4s::results {
namespace {

using nlohmann::json;

// Batch sizes a result may have: the bench's own limit (--p4s_batch).
constexpr int64_t kMaxResultBatch = int64_t{1} << 24;
// A layer case's arguments have at most 18 digits: a case with larger ones is none of ours (its
// shape arithmetic would overflow).
constexpr int64_t kMaxCaseArgument = 999'999'999'999'999'999;
// Google Benchmark's output nests 4 levels deep (document, context, caches, cache); deeper JSON
// is refused.
constexpr int kMaxJsonDepth = 64;
// More repetitions than any real run has: bounds the weights of aggregates.
constexpr int64_t kMaxRepetitions = 1'000'000;

// A JSON value as errors quote it: compact, and cut short.
std::string shown(const json& v) {
  std::string text = v.dump(-1, ' ', true);  // ASCII: a cut never splits a character
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

// Google Benchmark's own name suffixes, which are not layer arguments.
bool is_benchmark_suffix(const std::string& key) {
  static const char* const kSuffixes[] = {"repeats", "iterations", "threads", "min_time",
                                          "min_warmup_time"};
  return std::any_of(std::begin(kSuffixes), std::end(kSuffixes),
                     [&](const char* s) { return key == s; });
}

bool says_out_of_memory(std::string message) {
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return message.find("out of memory") != std::string::npos ||
         message.find("bad_alloc") != std::string::npos;
}

double time_unit_to_ms(const std::string& unit) {
  if (unit == "ns") return 1e-6;
  if (unit == "us") return 1e-3;
  if (unit == "ms") return 1.0;
  if (unit == "s") return 1e3;
  return 0.0;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// The name parts that follow a case's own: recipe parts (recipe.hpp) and Google Benchmark's.
// Applies the recipe parts to `recipe`; false for a part that is neither (not our case).
bool read_name_tail(const std::vector<std::string>& parts, size_t from, Recipe& recipe, const std::string& where) {
  for (size_t i = from; i < parts.size(); ++i) {
    const RecipePartResult r = apply_recipe_part(parts[i], recipe);
    if (!r.error.empty()) throw InputError(where + ": " + r.error);
    if (r.recognised) continue;
    const size_t colon = parts[i].find(':');
    if (colon != std::string::npos && !is_benchmark_suffix(parts[i].substr(0, colon))) return false;
  }
  return true;
}

// The label's recipe parts: where the case's recipe is not the default one.
std::string recipe_suffix(const Recipe& r) {
  std::string s;
  for (const std::string& part : recipe_name_parts(r, default_recipe())) s += "/" + part;
  return s;
}

// Parses a run name, `base` the recipe of its file; nullopt for names that are neither a
// network nor a layer case. Also gives the name without Google Benchmark's parts, as a label.
std::optional<std::pair<CaseId, std::string>> parse_case(const std::string& run_name, const Recipe& base,
                                                         const std::string& where) {
  const std::vector<std::string> parts = split(run_name, '/');
  CaseId key;
  key.recipe = base;
  if (parts[0] == kNetCasePrefix) {
    if (parts.size() < 3 || parts[1].empty() || parts[2].rfind(std::string(kBatchArg) + ":", 0) != 0)
      throw InputError(where + ": a network case must be named Net/<net>/bs:<N>");
    const std::optional<int64_t> bs = parse_integer<int64_t>(parts[2].substr(3));
    if (!bs || *bs <= 0) throw InputError(where + ": batch size in \"" + parts[2] + "\" must be a positive integer");
    if (*bs > kMaxResultBatch)
      throw InputError(where + ": batch size in \"" + parts[2] + "\" is more than " + std::to_string(kMaxResultBatch));
    key.is_net = true;
    key.name = parts[1];
    key.batch = *bs;
    for (size_t i = 3; i < parts.size(); ++i) {  // other parts are Google Benchmark's
      const RecipePartResult r = apply_recipe_part(parts[i], key.recipe);
      if (!r.error.empty()) throw InputError(where + ": " + r.error);
    }
    return std::make_pair(key, net_case_name(key.name, key.batch) + recipe_suffix(key.recipe));
  }
  key.name = parts[0];
  // A layer case trains its one layer: the file's trainable part means nothing to it.
  key.recipe.train_from.clear();
  key.recipe.freeze_bn = false;
  std::string label = parts[0];
  size_t i = 1;
  for (; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    if (colon == std::string::npos) continue;  // manual_time, real_time, ...
    const std::string k = parts[i].substr(0, colon);
    if (is_benchmark_suffix(k)) continue;
    const std::optional<int64_t> v = parse_integer<int64_t>(parts[i].substr(colon + 1));
    if (!v) break;  // a recipe part, or not one of our layer cases
    if (*v < -kMaxCaseArgument || *v > kMaxCaseArgument) return std::nullopt;
    if (k == kBatchArg && (*v <= 0 || *v > kMaxResultBatch))
      throw InputError(where + ": batch size in \"" + parts[i] + "\" must be from 1 to " +
                         std::to_string(kMaxResultBatch));
    key.args[k] = *v;
    label += "/" + k + ":" + std::to_string(*v);
  }
  if (key.args.empty() || !read_name_tail(parts, i, key.recipe, where)) return std::nullopt;
  if (!key.recipe.train_from.empty() || key.recipe.freeze_bn)
    throw InputError(where + ": a layer case trains its one layer: it has no from: or freeze_bn: part");
  return std::make_pair(key, label + recipe_suffix(key.recipe));
}

// Fields Google Benchmark writes in every entry; any other numeric field is a user counter.
bool is_benchmark_field(const std::string& key) {
  static const char* const kFields[] = {
      "name", "run_name", "run_type", "family_index", "per_family_instance_index", "repetitions",
      "repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
      "aggregate_name", "aggregate_unit", "error_occurred", "error_message", "skipped", "label",
      "big_o", "cpu_coefficient", "real_coefficient", "rms"};
  return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* f) { return key == f; });
}

// Counters that read_results checks: what `p4s fit` learns from must be a non-negative number.
bool is_checked_counter(const std::string& key) {
  return key == target_name(Target::kMemAlloc) || key == target_name(Target::kMemReserved) ||
         key == target_name(Target::kMemUsed);
}

// What a training step that ran can measure. Beyond these a value is a broken file, not a
// measurement, and would only make the fit's arithmetic overflow.
struct Plausible {
  double min;
  bool min_exclusive;
  double max;
  const char* too_small;
  const char* too_large;
};
// Latency in ms: more than nothing, less than a year.
const Plausible kLatencyRange{0.0, true, 3.2e10, "a step that ran takes time", "a year"};
// mem_alloc, mem_reserved: a step that ran holds at least its weights; at most 2^60 bytes.
const Plausible kHeldBytesRange{1.0, false, 1152921504606846976.0,
                                "a step that ran holds at least its weights", "2^60 bytes"};
// mem_used: memory above what was in use before may be none.
const Plausible kMemUsedRange{0.0, false, 1152921504606846976.0, "", "2^60 bytes"};

double median(std::vector<std::pair<double, int>> v) {
  // Weighted median: the value at which half of the total weight is reached.
  std::sort(v.begin(), v.end());
  int total = 0;
  for (const auto& p : v) total += p.second;
  int acc = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    acc += v[i].second;
    if (2 * acc > total) return v[i].first;
    if (2 * acc == total) return i + 1 < v.size() ? 0.5 * (v[i].first + v[i + 1].first) : v[i].first;
  }
  return v.back().first;
}

class FileReader {
 public:
  FileReader(const std::string& source, std::map<CaseId, CaseRuns>& cases, RunSet& out)
      : source_(source), cases_(cases), out_(out), source_index_(out.sources.size() - 1) {}

  void read(const std::string& text) {
    json doc;
    try {
      // The nesting bound keeps recursive code (dump) away from absurd depths.
      doc = json::parse(null_nonfinite_tokens(text), [&](int depth, json::parse_event_t, json&) {
        if (depth > kMaxJsonDepth)
          throw InputError(source_ + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                             " levels: not Google Benchmark output");
        return true;
      });
    } catch (const json::parse_error& e) {
      throw InputError(source_ + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception& e) {
      // Failures without a position, e.g. a number beyond the range of double (out_of_range.406).
      const std::string what = e.what();
      const size_t bracket = what.find("] ");
      throw InputError(source_ + ": not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
    }
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
      throw NotBenchmarkOutputError(source_ + ": not Google Benchmark output: no \"benchmarks\" list");
    std::map<std::string, std::string> context;
    if (doc.contains("context") && doc["context"].is_object()) {
      check_schema_version(doc["context"]);
      for (auto it = doc["context"].begin(); it != doc["context"].end(); ++it)
        context[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    }
    const std::string bad_recipe = recipe_from_context(context, recipe_);
    if (!bad_recipe.empty()) throw InputError(source_ + ": " + bad_recipe);
    if (out_.context.empty()) out_.context = std::move(context);
    const json& list = doc["benchmarks"];
    for (size_t i = 0; i < list.size(); ++i) {
      try {
        read_entry(list[i], i);
      } catch (const json::type_error& e) {
        // A field of the wrong type where Google Benchmark writes a known one.
        throw InputError(source_ + ": benchmarks[" + std::to_string(i) + "]: " + e.what());
      }
    }
  }

 private:
  // The bench's p4s_schema_version, where the context has one: a version this reader knows.
  void check_schema_version(const json& context) const {
    auto it = context.find(kSchemaVersionKey);
    if (it == context.end()) return;
    const std::string where = source_ + ": field \"context." + kSchemaVersionKey + "\"";
    const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
    const std::optional<int64_t> v = parse_integer<int64_t>(text);
    if (!v || *v < 1) throw InputError(where + ": \"" + text + "\" is not a version number");
    if (*v > kSchemaVersion)
      throw InputError(where + ": version " + text + " is newer than this reader understands (" +
                         std::to_string(kSchemaVersion) + ")");
  }

  // A measured value of a step that ran: a number (null, from NaN / Infinity, is missing),
  // not negative, and within what a training step can measure: `min` (exclusive when
  // `min_exclusive`) to `max`, in the field's unit (`scale` converts it to that unit).
  std::optional<double> number(const json& e, const std::string& field, const std::string& where,
                               const Plausible& range, double scale = 1.0) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return std::nullopt;
    if (!it->is_number())
      throw InputError(where + ": field \"" + field + "\" must be a number, got " + shown(*it));
    const double v = it->get<double>();
    if (v < 0)
      throw InputError(where + ": field \"" + field + "\" must not be negative, got " + shown(*it));
    const double u = v * scale;
    if (u < range.min || (range.min_exclusive && u == range.min))
      throw InputError(where + ": field \"" + field + "\" is " + it->dump() + ": " + range.too_small);
    if (u > range.max)
      throw InputError(where + ": field \"" + field + "\" is " + it->dump() + ": more than " + range.too_large);
    return u;
  }

  std::string text(const json& e, const char* field, const std::string& fallback,
                   const std::string& where) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return fallback;
    if (!it->is_string())
      throw InputError(where + ": field \"" + field + "\" must be a string, got " + shown(*it));
    return it->get<std::string>();
  }
  bool flag(const json& e, const char* field, const std::string& where) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return false;
    if (!it->is_boolean())
      throw InputError(where + ": field \"" + field + "\" must be true or false, got " + shown(*it));
    return it->get<bool>();
  }
  // The runs an aggregate stands for: Google Benchmark's "repetitions" (older versions may
  // write 0 where they mean 1).
  int repetitions(const json& e, const std::string& where) const {
    auto it = e.find("repetitions");
    if (it == e.end() || it->is_null()) return 1;
    const std::optional<int64_t> n = json_integer<int64_t>(*it);
    if (!n || *n > kMaxRepetitions)
      throw InputError(where + ": field \"repetitions\" must be an integer up to " +
                         std::to_string(kMaxRepetitions) + ", got " + shown(*it));
    return static_cast<int>(std::max<int64_t>(1, *n));
  }

  void read_entry(const json& e, size_t index) {
    std::string where = source_ + ": benchmarks[" + std::to_string(index) + "]";
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
      throw InputError(where + ": an entry must be an object with a \"name\"");
    where += " \"" + e["name"].get<std::string>() + "\"";
    const std::string run_type = text(e, "run_type", "iteration", where);
    const std::string agg = text(e, "aggregate_name", "", where);
    std::string run_name = text(e, "run_name", "", where);
    if (run_name.empty()) {
      run_name = e["name"].get<std::string>();
      if (run_type == "aggregate" && !agg.empty() && run_name.size() > agg.size() + 1 &&
          run_name.compare(run_name.size() - agg.size() - 1, std::string::npos, "_" + agg) == 0)
        run_name.resize(run_name.size() - agg.size() - 1);
    }
    const auto parsed = parse_case(run_name, recipe_, where);
    if (!parsed) return;
    if (run_type == "aggregate" && agg != "median") return;
    const CaseId& key = parsed->first;
    auto [slot, inserted] = cases_.try_emplace(key);
    CaseRuns& c = slot->second;
    if (inserted) {
      c.id = key;
      c.label = parsed->second;
    }

    if (flag(e, "error_occurred", where)) {
      const std::string message = text(e, "error_message", "", where);
      if (says_out_of_memory(message)) {
        ++c.out_of_memory;
      } else {
        if (c.failed++ == 0) c.failure = message.empty() ? "error without a message" : message;
      }
      return;
    }
    Run run;
    run.source = source_index_;
    const std::string unit = text(e, "time_unit", "ns", where);
    const double to_ms = time_unit_to_ms(unit);
    if (to_ms == 0.0) throw InputError(where + ": field \"time_unit\": unknown unit \"" + unit + "\"");
    if (const auto t = number(e, "real_time", where, kLatencyRange, to_ms)) run.latency_ms = *t;
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (is_benchmark_field(it.key())) continue;
      if (is_checked_counter(it.key())) {
        const Plausible& range = it.key() == target_name(Target::kMemUsed) ? kMemUsedRange : kHeldBytesRange;
        if (const auto v = number(e, it.key(), where, range)) run.counters[it.key()] = *v;
      } else if (it->is_number()) {
        run.counters[it.key()] = it->get<double>();
      }
    }
    if (run_type == "aggregate") {
      run.median_aggregate = true;
      run.weight = repetitions(e, where);
    }
    c.runs.push_back(std::move(run));
  }

  const std::string& source_;
  Recipe recipe_;  // the file's, from its context
  std::map<CaseId, CaseRuns>& cases_;
  RunSet& out_;
  size_t source_index_;
};

Measured measured(const Run& run) {
  Measured m;
  m.latency_ms = run.latency_ms;
  for (Target t : kAllTargets) {
    if (t == Target::kLatencyMs) continue;
    const auto it = run.counters.find(target_name(t));
    if (it != run.counters.end()) m.get(t) = it->second;
  }
  return m;
}

Measured merge(const std::vector<const Run*>& runs) {
  std::vector<Measured> values;
  for (const Run* r : runs) values.push_back(measured(*r));
  Measured m;
  for (Target t : kAllTargets) {
    std::vector<std::pair<double, int>> v;
    for (size_t i = 0; i < runs.size(); ++i)
      if (const auto& x = values[i].get(t)) v.emplace_back(*x, runs[i]->weight);
    if (!v.empty()) m.get(t) = median(std::move(v));
  }
  return m;
}

RunSet finish(std::map<CaseId, CaseRuns>& cases, RunSet out) {
  out.cases.reserve(cases.size());
  for (auto& entry : cases) out.cases.push_back(std::move(entry.second));
  return out;
}

}  // namespace

bool CaseId::operator<(const CaseId& o) const {
  return std::tie(is_net, name, batch, args, recipe) < std::tie(o.is_net, o.name, o.batch, o.args, o.recipe);
}

bool CaseId::operator==(const CaseId& o) const {
  return std::tie(is_net, name, batch, args, recipe) == std::tie(o.is_net, o.name, o.batch, o.args, o.recipe);
}

ResultSet merge_runs(const RunSet& set) {
  ResultSet out;
  out.sources = set.sources;
  out.context = set.context;
  for (const CaseRuns& c : set.cases) {
    out.failed_other += c.failed;
    // Within one file a median aggregate stands for its repetitions; iteration runs of a case
    // that has one are not counted twice.
    std::vector<const Run*> chosen;
    for (size_t source = 0; source < set.sources.size(); ++source) {
      bool has_median = false;
      for (const Run& r : c.runs) has_median |= r.source == source && r.median_aggregate;
      for (const Run& r : c.runs)
        if (r.source == source && r.median_aggregate == has_median) chosen.push_back(&r);
    }
    if (chosen.empty() && c.out_of_memory == 0) continue;  // only other failures: no data
    int64_t n = 0;
    for (const Run* r : chosen) n += r->weight;
    const bool fits = !chosen.empty();
    const Measured values = fits ? merge(chosen) : Measured{};
    const int count = fits ? static_cast<int>(std::min<int64_t>(n, INT_MAX)) : c.out_of_memory;
    if (c.id.is_net)
      out.nets.push_back(NetResult{c.id.name, c.id.batch, fits, values, count, c.id.recipe});
    else
      out.layers.push_back(LayerResult{c.id.name, c.id.args, fits, values, count, c.id.recipe});
  }
  return out;
}

std::string null_nonfinite_tokens(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '-') {
      // A bare word (or a signed one): NaN, -NaN, Infinity, -Infinity, nan, inf.
      size_t j = i + (c == '-' ? 1 : 0);
      size_t k = j;
      while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
      std::string word = text.substr(j, k - j);
      std::transform(word.begin(), word.end(), word.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (word == "nan" || word == "inf" || word == "infinity") {
        out += "null";
        i = k;
        continue;
      }
      out.append(text, i, k > i ? k - i : 1);
      i = k > i ? k : i + 1;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

RunSet parse_runs(const std::string& json_text, const std::string& source) {
  std::map<CaseId, CaseRuns> cases;
  RunSet out;
  out.sources.push_back(source);
  FileReader(source, cases, out).read(json_text);
  return finish(cases, std::move(out));
}

RunSet read_runs(const std::vector<std::string>& paths, bool pass_over_other_json) {
  if (paths.empty()) throw InputError("no result files given");
  std::map<CaseId, CaseRuns> cases;
  RunSet out;
  for (const std::string& path : paths) {
    std::string text;
    try {
      text = p4s::read_file(path);
    } catch (const std::runtime_error& e) {
      throw InputError(e.what());
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw InputError(path + ": the file is empty");
    out.sources.push_back(path);
    try {
      FileReader(path, cases, out).read(text);
    } catch (const NotBenchmarkOutputError&) {
      if (!pass_over_other_json) throw;
      // The check comes before any entry is read, so nothing of this file is in `cases`.
      out.sources.pop_back();
      out.passed_over.push_back(path);
    }
  }
  return finish(cases, std::move(out));
}

ResultSet parse_results(const std::string& json_text, const std::string& source) {
  return merge_runs(parse_runs(json_text, source));
}

ResultSet read_results(const std::vector<std::string>& paths) {
  return merge_runs(read_runs(paths));
}

}  // namespace p4s::results
