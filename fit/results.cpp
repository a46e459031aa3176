#include "fit/results.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/atomic_file.hpp"
#include "modelgen/error_text.hpp"

namespace p4s::fit {
namespace {

using nlohmann::json;

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

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return std::nullopt;
  return std::stoll(s);
}

// A case's identity: a network at a batch size, or a layer kind with its arguments.
struct CaseKey {
  bool is_net = false;
  std::string name;  // net name or layer kind
  int64_t batch = 0;
  std::map<std::string, int64_t> args;
  bool operator<(const CaseKey& o) const {
    return std::tie(is_net, name, batch, args) < std::tie(o.is_net, o.name, o.batch, o.args);
  }
};

// Parses a run name; nullopt for names that are neither a network nor a layer case.
std::optional<CaseKey> parse_case(const std::string& run_name, const std::string& where) {
  const std::vector<std::string> parts = split(run_name, '/');
  CaseKey key;
  if (parts[0] == "Net") {
    if (parts.size() < 3 || parts[1].empty() || parts[2].rfind("bs:", 0) != 0)
      throw ResultsError(where + ": a network case must be named Net/<net>/bs:<N>");
    const std::optional<int64_t> bs = parse_int(parts[2].substr(3));
    if (!bs || *bs <= 0) throw ResultsError(where + ": batch size in \"" + parts[2] + "\" must be a positive integer");
    key.is_net = true;
    key.name = parts[1];
    key.batch = *bs;
    return key;
  }
  key.name = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    if (colon == std::string::npos) continue;  // manual_time, real_time, ...
    const std::string k = parts[i].substr(0, colon);
    if (is_benchmark_suffix(k)) continue;
    const std::optional<int64_t> v = parse_int(parts[i].substr(colon + 1));
    if (!v) return std::nullopt;  // not one of our layer cases
    key.args[k] = *v;
  }
  if (key.args.empty()) return std::nullopt;
  return key;
}

struct Sample {
  Measured values;
  int weight = 1;  // runs it stands for
};

struct CaseRuns {
  std::vector<Sample> samples;
  int out_of_memory = 0;
};

double median(std::vector<std::pair<double, int>> v) {
  // Weighted median: the value at which half of the total weight is reached.
  std::sort(v.begin(), v.end());
  int64_t total = 0;
  for (const auto& p : v) total += p.second;
  int64_t acc = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    acc += v[i].second;
    if (2 * acc > total) return v[i].first;
    if (2 * acc == total) return i + 1 < v.size() ? 0.5 * (v[i].first + v[i + 1].first) : v[i].first;
  }
  return v.back().first;
}

class FileReader {
 public:
  FileReader(const std::string& source, std::map<CaseKey, CaseRuns>& cases, ResultSet& out)
      : source_(source), cases_(cases), out_(out) {}

  void read(const std::string& text) {
    json doc;
    try {
      // The nesting bound keeps recursive code (dump) away from absurd depths.
      doc = json::parse(null_nonfinite_tokens(text), [&](int depth, json::parse_event_t, json&) {
        if (depth > kMaxJsonDepth)
          throw ResultsError(source_ + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                             " levels: not Google Benchmark output");
        return true;
      });
    } catch (const json::parse_error& e) {
      throw ResultsError(source_ + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
    } catch (const json::exception& e) {
      // Failures without a position, e.g. a number beyond the range of double (out_of_range.406).
      const std::string what = e.what();
      const size_t bracket = what.find("] ");
      throw ResultsError(source_ + ": not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
    }
    if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
      throw ResultsError(source_ + ": not Google Benchmark output: no \"benchmarks\" list");
    if (out_.context.empty() && doc.contains("context") && doc["context"].is_object())
      for (auto it = doc["context"].begin(); it != doc["context"].end(); ++it)
        out_.context[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    // Within one file a median aggregate stands for its repetitions; iteration runs of a
    // case that has one are not counted twice.
    std::map<CaseKey, Sample> medians;
    std::map<CaseKey, std::vector<Sample>> iterations;
    const json& list = doc["benchmarks"];
    for (size_t i = 0; i < list.size(); ++i) read_entry(list[i], i, medians, iterations);
    for (auto& [key, runs] : iterations) {
      auto m = medians.find(key);
      if (m != medians.end()) continue;
      for (Sample& s : runs) cases_[key].samples.push_back(std::move(s));
    }
    for (auto& [key, s] : medians) cases_[key].samples.push_back(std::move(s));
  }

 private:
  // Typed fields; absent or null is the fallback. A field of another type is refused.
  std::optional<double> number(const json& e, const char* field, const std::string& where) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return std::nullopt;
    if (!it->is_number())
      throw ResultsError(where + ": field \"" + field + "\" must be a number, got " + shown(*it));
    const double v = it->get<double>();
    if (v < 0)
      throw ResultsError(where + ": field \"" + field + "\" must not be negative, got " + shown(*it));
    return v;
  }
  std::string text(const json& e, const char* field, const std::string& fallback,
                   const std::string& where) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return fallback;
    if (!it->is_string())
      throw ResultsError(where + ": field \"" + field + "\" must be a string, got " + shown(*it));
    return it->get<std::string>();
  }
  bool flag(const json& e, const char* field, const std::string& where) const {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) return false;
    if (!it->is_boolean())
      throw ResultsError(where + ": field \"" + field + "\" must be true or false, got " + shown(*it));
    return it->get<bool>();
  }
  // The runs an aggregate stands for: Google Benchmark's "repetitions" (older versions may
  // write 0 where they mean 1).
  int repetitions(const json& e, const std::string& where) const {
    auto it = e.find("repetitions");
    if (it == e.end() || it->is_null()) return 1;
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > kMaxRepetitions) ||
        it->get<int64_t>() > kMaxRepetitions)
      throw ResultsError(where + ": field \"repetitions\" must be an integer up to " +
                         std::to_string(kMaxRepetitions) + ", got " + shown(*it));
    return static_cast<int>(std::max<int64_t>(1, it->get<int64_t>()));
  }

  void read_entry(const json& e, size_t index, std::map<CaseKey, Sample>& medians,
                  std::map<CaseKey, std::vector<Sample>>& iterations) {
    std::string where = source_ + ": benchmarks[" + std::to_string(index) + "]";
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
      throw ResultsError(where + ": an entry must be an object with a \"name\"");
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
    const std::optional<CaseKey> key = parse_case(run_name, where);
    if (!key) return;
    if (run_type == "aggregate" && agg != "median") return;

    if (flag(e, "error_occurred", where)) {
      if (says_out_of_memory(text(e, "error_message", "", where)))
        ++cases_[*key].out_of_memory;
      else
        ++out_.failed_other;
      return;
    }
    Sample s;
    const std::string unit = text(e, "time_unit", "ns", where);
    const double to_ms = time_unit_to_ms(unit);
    if (to_ms == 0.0) throw ResultsError(where + ": field \"time_unit\": unknown unit \"" + unit + "\"");
    if (const auto t = number(e, "real_time", where)) {
      s.values.latency_ms = *t * to_ms;
      if (!std::isfinite(*s.values.latency_ms))
        throw ResultsError(where + ": field \"real_time\": " + shown(e["real_time"]) + " " + unit +
                           " is beyond the range of milliseconds as a double");
    }
    s.values.mem_alloc = number(e, "mem_alloc", where);
    s.values.mem_reserved = number(e, "mem_reserved", where);
    s.values.mem_used = number(e, "mem_used", where);
    if (run_type == "aggregate") {
      s.weight = repetitions(e, where);
      medians[*key] = std::move(s);
    } else {
      iterations[*key].push_back(std::move(s));
    }
  }

  const std::string& source_;
  std::map<CaseKey, CaseRuns>& cases_;
  ResultSet& out_;
};

Measured merge(const std::vector<Sample>& samples) {
  Measured m;
  for (Target t : kAllTargets) {
    std::vector<std::pair<double, int>> v;
    for (const Sample& s : samples)
      if (const auto& x = s.values.get(t)) v.emplace_back(*x, s.weight);
    if (!v.empty()) m.get(t) = median(std::move(v));
  }
  return m;
}

ResultSet finish(std::map<CaseKey, CaseRuns>& cases, ResultSet out) {
  for (auto& [key, runs] : cases) {
    int64_t n = 0;
    for (const Sample& s : runs.samples) n += s.weight;
    const bool fits = !runs.samples.empty();
    const Measured values = fits ? merge(runs.samples) : Measured{};
    const int count = fits ? static_cast<int>(std::min<int64_t>(n, INT_MAX)) : runs.out_of_memory;
    if (key.is_net)
      out.nets.push_back(NetResult{key.name, key.batch, fits, values, count});
    else
      out.layers.push_back(LayerResult{key.name, key.args, fits, values, count});
  }
  return out;
}

}  // namespace

ResultsError::ResultsError(const std::string& what)
    : std::runtime_error(modelgen::printable(what)) {}

const char* target_name(Target t) {
  switch (t) {
    case Target::kLatencyMs: return "latency_ms";
    case Target::kMemAlloc: return "mem_alloc";
    case Target::kMemReserved: return "mem_reserved";
    case Target::kMemUsed: return "mem_used";
  }
  return "?";
}

std::optional<Target> target_from_name(const std::string& name) {
  for (Target t : kAllTargets)
    if (name == target_name(t)) return t;
  return std::nullopt;
}

const std::optional<double>& Measured::get(Target t) const {
  switch (t) {
    case Target::kLatencyMs: return latency_ms;
    case Target::kMemAlloc: return mem_alloc;
    case Target::kMemReserved: return mem_reserved;
    case Target::kMemUsed: return mem_used;
  }
  return latency_ms;
}

std::optional<double>& Measured::get(Target t) {
  return const_cast<std::optional<double>&>(static_cast<const Measured&>(*this).get(t));
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

ResultSet parse_results(const std::string& json_text, const std::string& source) {
  std::map<CaseKey, CaseRuns> cases;
  ResultSet out;
  out.sources.push_back(source);
  FileReader(source, cases, out).read(json_text);
  return finish(cases, std::move(out));
}

ResultSet read_results(const std::vector<std::string>& paths) {
  if (paths.empty()) throw ResultsError("no result files given");
  std::map<CaseKey, CaseRuns> cases;
  ResultSet out;
  for (const std::string& path : paths) {
    std::string text;
    try {
      text = p4s::read_file(path);
    } catch (const std::runtime_error& e) {
      throw ResultsError(e.what());
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw ResultsError(path + ": the file is empty");
    out.sources.push_back(path);
    FileReader(path, cases, out).read(text);
  }
  return finish(cases, std::move(out));
}

}  // namespace p4s::fit
