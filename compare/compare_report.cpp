#include "compare/compare_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace p4s::compare {
namespace {

using nlohmann::json;

std::string printf_string(const char* format, double v, int precision) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, precision, v);
  return buf;
}

// About `digits` significant digits, never in exponent notation for the values results hold.
std::string significant(double v, int digits) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  if (v == 0) return "0";
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  if (magnitude < -6 || magnitude > 15) return printf_string("%.*g", v, digits);
  const int decimals = std::clamp(digits - 1 - magnitude, 0, 9);
  return printf_string("%.*f", v, decimals);
}

// Options as the user wrote them: 0.05, 5, 2.5.
std::string short_number(double v, int digits = 6) { return printf_string("%.*g", v, digits); }

std::string format_bytes(double v) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double x = std::fabs(v);
  int unit = 0;
  while (x >= 1024 && unit < 4) {
    x /= 1024;
    ++unit;
  }
  const std::string number = unit == 0 ? printf_string("%.*f", x, 0) : printf_string("%.*f", x, x < 10 ? 2 : 1);
  return (v < 0 ? "-" : "") + number + " " + kUnits[unit];
}

std::string format_p(double p) {
  if (p < 1e-4) return printf_string("%.*e", p, 1);
  return printf_string("%.*f", p, 4);
}

const char* json_state(CaseState s) {
  switch (s) {
    case CaseState::kRan: return "ran";
    case CaseState::kDidNotFit: return "did_not_fit";
    case CaseState::kFailed: return "failed";
  }
  return "?";
}

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json side_json(const std::optional<CaseSide>& s) {
  if (!s) return nullptr;
  json j = {{"state", json_state(s->state)},       {"runs", s->runs},
            {"out_of_memory", s->out_of_memory},   {"failed", s->failed},
            {"aggregates_only", s->aggregates_only}};
  if (s->failed > 0) j["failure"] = s->failure;
  return j;
}

json metric_json(const MetricChange& m) {
  json j = {{"metric", m.metric},
            {"old", m.old_value},
            {"new", m.new_value},
            {"ratio", m.ratio ? json(*m.ratio) : json(nullptr)},
            {"change_pct", finite_or_null(m.change_pct())},
            {"old_runs", m.old_runs},
            {"new_runs", m.new_runs},
            {"old_n", m.old_n},
            {"new_n", m.new_n},
            {"evidence", evidence_name(m.evidence)},
            {"u", m.test ? json(m.test->u) : json(nullptr)},
            {"p_value", m.test ? json(m.test->p_value) : json(nullptr)},
            {"method", m.test ? json(method_name(m.test->method)) : json(nullptr)},
            {"significant", m.significant},
            {"gated", m.gated},
            {"worse", m.worse}};
  return j;
}

std::vector<std::string> one_sided_metrics(const std::set<std::string>& mine, const std::set<std::string>& other) {
  std::vector<std::string> out;
  std::set_difference(mine.begin(), mine.end(), other.begin(), other.end(), std::back_inserter(out));
  std::sort(out.begin(), out.end(), metric_order);
  return out;
}

// A table of cells, printed with aligned columns; `right[i]` right-aligns column i.
class Table {
 public:
  explicit Table(std::vector<bool> right) : right_(std::move(right)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string str(const std::string& indent = "") const {
    std::vector<size_t> width(right_.size(), 0);
    for (const auto& row : rows_)
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    std::string out;
    for (const auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string pad(width[i] - row[i].size(), ' ');
        line += right_[i] ? pad + row[i] : row[i] + pad;
        if (i + 1 < row.size()) line += "  ";
      }
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

std::string side_label(const std::string& label, const std::vector<std::string>& sources) {
  const std::string files = std::to_string(sources.size()) + (sources.size() == 1 ? " file" : " files");
  if (sources.size() == 1 && label == sources[0]) return label;
  return label + " (" + files + ")";
}

std::string clip(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

// Context keys whose values differ between the sides, except those that always do; the
// device's state (p4s_state_*: clocks, governor, temperature, power mode at each sweep's start
// and end) under a heading of its own, since it explains latency changes that the software
// does not.
std::string context_differences(const Comparison& c) {
  std::set<std::string> keys;
  for (const auto& kv : c.old_context) keys.insert(kv.first);
  for (const auto& kv : c.new_context) keys.insert(kv.first);
  Table setup({false, false, false, false}), state({false, false, false, false});
  bool any_setup = false, any_state = false;
  for (const std::string& k : keys) {
    if (k == "date" || k == "load_avg") continue;
    const auto o = c.old_context.find(k), n = c.new_context.find(k);
    const std::string ov = o == c.old_context.end() ? "-" : o->second;
    const std::string nv = n == c.new_context.end() ? "-" : n->second;
    if (ov == nv) continue;
    const bool is_state = k.rfind("p4s_state_", 0) == 0;
    (is_state ? state : setup).add({k, clip(ov, 40), "->", clip(nv, 40)});
    (is_state ? any_state : any_setup) = true;
  }
  std::string out;
  if (any_setup) out += "context that differs:\n" + setup.str("  ");
  if (any_state) out += "device state that differs:\n" + state.str("  ");
  return out;
}

std::string state_text(const CaseSide& s) {
  std::string text = state_name(s.state);
  if (s.state == CaseState::kRan && s.out_of_memory > 0)
    text += " (" + std::to_string(s.out_of_memory) + " out of memory)";
  return text;
}

}  // namespace

int compare_exit_status(const Comparison& c) {
  return c.options.threshold_pct && c.worse_cases > 0 ? kExitWorse : 0;
}

std::string test_description() {
  return "two-sided Mann-Whitney U test over the repetitions: exact when no value is tied and a side "
         "has at most 8 values, else the normal approximation with tie and continuity correction "
         "(as scipy.stats.mannwhitneyu, method auto); significant when p < alpha";
}

std::string format_change(double change_pct) {
  if (!std::isfinite(change_pct)) return change_pct > 0 ? "+inf%" : "-inf%";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", change_pct);
  return buf;
}

std::string format_value(const std::string& metric, double value) {
  if (metric == "latency_ms") return significant(value, 4) + " ms";
  if (is_memory_metric(metric)) return format_bytes(value);
  if (value == std::floor(value) && std::fabs(value) < 1e15) return printf_string("%.*f", value, 0);
  return significant(value, 4);
}

json comparison_json(const Comparison& c) {
  json cases = json::array();
  for (const CaseComparison& k : c.cases) {
    json metrics = json::array();
    for (const MetricChange& m : k.metrics) metrics.push_back(metric_json(m));
    cases.push_back({{"name", k.name},
                     {"in", k.matched() ? "both" : k.old_side ? "old" : "new"},
                     {"old", side_json(k.old_side)},
                     {"new", side_json(k.new_side)},
                     {"stopped_running", k.stopped_running},
                     {"started_running", k.started_running},
                     {"worse", k.worse},
                     {"metrics", std::move(metrics)}});
  }
  json summaries = json::array();
  for (const MetricSummary& s : c.summaries)
    summaries.push_back({{"metric", s.metric},
                         {"geomean_ratio", s.geomean_ratio ? json(*s.geomean_ratio) : json(nullptr)},
                         {"geomean_change_pct", s.geomean_ratio ? json((*s.geomean_ratio - 1) * 100) : json(nullptr)},
                         {"cases", s.cases},
                         {"left_out", s.left_out},
                         {"lower", s.lower},
                         {"higher", s.higher},
                         {"untested", s.untested},
                         {"worse", s.worse}});
  auto side = [](const std::string& label, const std::vector<std::string>& sources,
                 const std::vector<std::string>& passed_over, const std::map<std::string, std::string>& context) {
    return json{{"label", label}, {"sources", sources}, {"passed_over", passed_over}, {"context", context}};
  };
  return json{{"schema_version", kCompareSchemaVersion},
              {"kind", "p4s-compare"},
              {"alpha", c.options.alpha},
              {"threshold_pct", c.options.threshold_pct ? json(*c.options.threshold_pct) : json(nullptr)},
              {"test", test_description()},
              {"old", side(c.old_label, c.old_sources, c.old_passed_over, c.old_context)},
              {"new", side(c.new_label, c.new_sources, c.new_passed_over, c.new_context)},
              {"cases", std::move(cases)},
              {"summary",
               {{"matched", c.matched},
                {"old_only", c.old_only},
                {"new_only", c.new_only},
                {"worse_cases", c.worse_cases},
                {"metrics", std::move(summaries)},
                {"old_only_metrics", one_sided_metrics(c.old_metrics, c.new_metrics)},
                {"new_only_metrics", one_sided_metrics(c.new_metrics, c.old_metrics)}}},
              {"exit_status", compare_exit_status(c)}};
}

std::string comparison_table(const Comparison& c) {
  const bool threshold = c.options.threshold_pct.has_value();
  const std::string alpha = short_number(c.options.alpha);
  std::string out = "old: " + side_label(c.old_label, c.old_sources) + "\n";
  out += "new: " + side_label(c.new_label, c.new_sources) + "\n";
  for (const auto* skipped : {&c.old_passed_over, &c.new_passed_over})
    for (const std::string& f : *skipped) out += "passed over (no Google Benchmark output): " + f + "\n";
  out += context_differences(c);
  out += "\n";

  // The matched cases.
  Table t({false, false, true, true, true, true, true, false});
  t.add({"case", "metric", "old", "new", "change", "runs", "p-value", ""});
  int single = 0, underpowered = 0, aggregate_cases = 0;
  std::set<std::pair<int, int>> underpowered_sizes;
  std::vector<std::string> failures;
  for (const CaseComparison& k : c.cases) {
    for (const auto* s : {&k.old_side, &k.new_side})
      if (*s && (*s)->failed > 0)
        failures.push_back(k.name + "  " + (s == &k.old_side ? "old" : "new") + ": " + clip((*s)->failure, 100));
    if (!k.matched()) continue;
    aggregate_cases += k.old_side->aggregates_only || k.new_side->aggregates_only;
    if (k.metrics.empty()) {
      std::string note;
      if (k.stopped_running) note = "stopped running";
      if (k.started_running) note = "runs now";
      if (!note.empty() || k.old_side->state != CaseState::kRan || k.new_side->state != CaseState::kRan)
        t.add({k.name, "-", state_text(*k.old_side), state_text(*k.new_side), "", "", "",
               (k.worse ? "! " : "") + note});
      else
        t.add({k.name, "-", "ran", "ran", "no metric on both sides", "", "", ""});
      continue;
    }
    bool first = true;
    for (const MetricChange& m : k.metrics) {
      std::string flags;
      if (m.significant) flags += '*';
      if (m.worse) flags += '!';
      if (m.evidence == Evidence::kUnderpowered) flags += '~';
      if (m.evidence == Evidence::kSingle) ++single;
      if (m.evidence == Evidence::kUnderpowered) {
        ++underpowered;
        underpowered_sizes.insert({std::min(m.old_n, m.new_n), std::max(m.old_n, m.new_n)});
      }
      t.add({first ? k.name : "", m.metric, format_value(m.metric, m.old_value), format_value(m.metric, m.new_value),
             format_change(m.change_pct()), std::to_string(m.old_runs) + "/" + std::to_string(m.new_runs),
             m.test ? format_p(m.test->p_value) : "-", flags});
      first = false;
    }
  }
  if (c.matched > 0) out += t.str();
  else out += "No case is in both.\n";

  // Cases on one side only.
  for (const bool old_side : {true, false}) {
    const int count = old_side ? c.old_only : c.new_only;
    if (count == 0) continue;
    out += "\nOnly in " + std::string(old_side ? "old" : "new") + " (" + std::to_string(count) + "):\n";
    for (const CaseComparison& k : c.cases) {
      const std::optional<CaseSide>& s = old_side ? k.old_side : k.new_side;
      if (k.matched() || !s) continue;
      out += "  " + k.name + (s->state == CaseState::kRan ? "" : "  (" + std::string(state_name(s->state)) + ")") + "\n";
    }
  }
  if (!failures.empty()) {
    out += "\nFailures other than out of memory:\n";
    for (const std::string& f : failures) out += "  " + f + "\n";
  }

  // Summary per metric.
  int ran_both = 0;
  for (const CaseComparison& k : c.cases)
    ran_both += k.matched() && k.old_side->state == CaseState::kRan && k.new_side->state == CaseState::kRan;
  out += "\n" + std::to_string(c.matched) + " cases in both (" + std::to_string(ran_both) + " ran on both sides), " +
         std::to_string(c.old_only) + " only in old, " + std::to_string(c.new_only) + " only in new.\n";
  if (!c.summaries.empty()) {
    out += "Geometric mean of new/old over the cases that ran on both sides; significant changes at alpha " + alpha +
           ":\n";
    Table s({false, true, true, true, true, true, true, true});
    std::vector<std::string> head = {"metric", "geomean", "cases", "left out", "lower", "higher", "untested"};
    if (threshold) head.push_back("worse");
    s.add(head);
    for (const MetricSummary& m : c.summaries) {
      std::vector<std::string> row = {m.metric, m.geomean_ratio ? format_change((*m.geomean_ratio - 1) * 100) : "-",
                                      std::to_string(m.cases), std::to_string(m.left_out), std::to_string(m.lower),
                                      std::to_string(m.higher), std::to_string(m.untested)};
      if (threshold) row.push_back(std::to_string(m.worse));
      s.add(row);
    }
    out += s.str("  ");
  }
  const std::vector<std::string> old_metrics = one_sided_metrics(c.old_metrics, c.new_metrics);
  const std::vector<std::string> new_metrics = one_sided_metrics(c.new_metrics, c.old_metrics);
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& m : v) s += (s.empty() ? "" : ", ") + m;
    return s;
  };
  if (!old_metrics.empty()) out += "Metrics only in old: " + list(old_metrics) + "\n";
  if (!new_metrics.empty()) out += "Metrics only in new: " + list(new_metrics) + "\n";

  // What the marks mean, and what could not be tested.
  out += "\n*  significant at alpha " + alpha + " (two-sided Mann-Whitney U test over the repetitions)\n";
  if (single > 0)
    out += "-  no test: " + std::to_string(single) + " comparisons have fewer than 2 repetitions on a side\n";
  if (underpowered > 0) {
    const auto [a, b] = *underpowered_sizes.begin();
    out += "~  cannot be significant: " + std::to_string(underpowered) +
           " comparisons have too few repetitions to reach p < " + alpha + " (with " + std::to_string(a) + " + " +
           std::to_string(b) + " the smallest p is " +
           short_number(mann_whitney_min_p(static_cast<size_t>(a), static_cast<size_t>(b)), 3) + ")\n";
  }
  if (threshold) {
    out += "!  worse by more than " + short_number(*c.options.threshold_pct) +
           "% (--threshold) on latency or memory: significantly where tested";
    if (single + underpowered > 0) out += ", by the plain change of the medians where marked - or ~";
    out += "; or ran before and does not now\n";
  }
  if (aggregate_cases > 0)
    out += "   " + std::to_string(aggregate_cases) +
           " cases have only median aggregates on a side: run Google Benchmark with "
           "--benchmark_report_aggregates_only=false (or --benchmark_display_aggregates_only=true) to keep "
           "the repetitions\n";
  if (threshold) {
    out += c.worse_cases > 0 ? "\n" + std::to_string(c.worse_cases) + (c.worse_cases == 1 ? " case" : " cases") +
                                   " worse than the threshold (exit status 3)\n"
                             : "\nNo case worse than the threshold.\n";
  }
  return out;
}

}  // namespace p4s::compare
