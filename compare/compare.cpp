#include "compare/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace p4s::compare {
namespace {

constexpr const char* kLatency = "latency_ms";

// One side's values of one metric of one case.
struct SideValues {
  std::vector<double> values;  // the repetitions, for the test (empty: aggregates only)
  double median = 0;
  int runs = 0;  // repetitions behind the median
  bool present = false;
};

std::optional<double> metric_of(const results::Run& r, const std::string& metric) {
  if (metric == kLatency) return r.latency_ms;
  const auto it = r.counters.find(metric);
  if (it == r.counters.end()) return std::nullopt;
  return it->second;
}

double weighted_median(std::vector<std::pair<double, int>> v) {
  std::sort(v.begin(), v.end());
  long total = 0;
  for (const auto& p : v) total += p.second;
  long acc = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    acc += v[i].second;
    if (2 * acc > total) return v[i].first;
    if (2 * acc == total) return i + 1 < v.size() ? 0.5 * (v[i].first + v[i + 1].first) : v[i].first;
  }
  return v.back().first;
}

// True when some file holds the case only as a median aggregate: its repetitions are not there.
bool aggregates_only(const results::CaseRuns& c) {
  std::set<size_t> with_iterations, with_aggregates;
  for (const results::Run& r : c.runs) (r.median_aggregate ? with_aggregates : with_iterations).insert(r.source);
  for (size_t s : with_aggregates)
    if (!with_iterations.count(s)) return true;
  return false;
}

SideValues side_values(const results::CaseRuns& c, const std::string& metric) {
  SideValues out;
  std::vector<std::pair<double, int>> weighted;
  if (aggregates_only(c)) {
    // As the fit stage merges: per file the median aggregate where there is one.
    std::set<size_t> with_aggregates;
    for (const results::Run& r : c.runs)
      if (r.median_aggregate) with_aggregates.insert(r.source);
    for (const results::Run& r : c.runs)
      if (r.median_aggregate == (with_aggregates.count(r.source) > 0))
        if (const auto v = metric_of(r, metric)) weighted.emplace_back(*v, r.weight);
  } else {
    for (const results::Run& r : c.runs)
      if (!r.median_aggregate)
        if (const auto v = metric_of(r, metric)) {
          weighted.emplace_back(*v, 1);
          out.values.push_back(*v);
        }
  }
  if (weighted.empty()) return out;
  out.present = true;
  for (const auto& w : weighted) out.runs += w.second;
  out.median = weighted_median(std::move(weighted));
  return out;
}

std::set<std::string> metrics_of(const results::CaseRuns& c) {
  std::set<std::string> names;
  for (const results::Run& r : c.runs) {
    if (r.latency_ms) names.insert(kLatency);
    for (const auto& kv : r.counters)
      if (kv.first != kLatency) names.insert(kv.first);
  }
  return names;
}

CaseSide side_of(const results::CaseRuns& c) {
  CaseSide s;
  for (const results::Run& r : c.runs) s.runs += r.weight;
  s.out_of_memory = c.out_of_memory;
  s.failed = c.failed;
  s.failure = c.failure;
  s.aggregates_only = aggregates_only(c);
  s.state = !c.runs.empty() ? CaseState::kRan : c.out_of_memory > 0 ? CaseState::kDidNotFit : CaseState::kFailed;
  return s;
}

bool wanted(const CompareOptions& o, const std::string& metric) {
  return o.metrics.empty() || std::find(o.metrics.begin(), o.metrics.end(), metric) != o.metrics.end();
}

MetricChange compare_metric(const std::string& metric, const SideValues& o, const SideValues& n,
                            const CompareOptions& options) {
  MetricChange m;
  m.metric = metric;
  m.old_value = o.median;
  m.new_value = n.median;
  m.old_runs = o.runs;
  m.new_runs = n.runs;
  m.old_n = static_cast<int>(o.values.size());
  m.new_n = static_cast<int>(n.values.size());
  if (o.median != 0) m.ratio = n.median / o.median;
  else if (n.median == 0) m.ratio = 1.0;
  m.gated = is_gated_metric(metric);
  if (o.values.size() >= 2 && n.values.size() >= 2) {
    m.test = mann_whitney_u(o.values, n.values);
    m.significant = m.test->p_value < options.alpha;
    m.evidence = mann_whitney_min_p(o.values.size(), n.values.size()) < options.alpha ? Evidence::kTested
                                                                                     : Evidence::kUnderpowered;
  }
  if (options.threshold_pct && m.gated) {
    const bool above = m.change_pct() > *options.threshold_pct;
    m.worse = above && (m.evidence != Evidence::kTested || m.significant);
  }
  return m;
}

// A layer case's argument values in the order its name gives them (cin, cout, k, ..., bs).
std::vector<int64_t> label_values(const std::string& label) {
  std::vector<int64_t> values;
  for (size_t colon = label.find(':'); colon != std::string::npos; colon = label.find(':', colon + 1))
    values.push_back(std::strtoll(label.c_str() + colon + 1, nullptr, 10));
  return values;
}

// Networks first, then layers; by name, then batch size, or arguments in the name's order.
bool case_order(const CaseComparison& a, const CaseComparison& b) {
  return std::make_tuple(!a.id.is_net, std::cref(a.id.name), a.id.batch, label_values(a.name)) <
         std::make_tuple(!b.id.is_net, std::cref(b.id.name), b.id.batch, label_values(b.name));
}

}  // namespace

bool is_memory_metric(const std::string& metric) {
  return metric.rfind("mem_", 0) == 0 || metric.rfind("cuda_malloc_", 0) == 0 || metric == "max_bytes_used";
}

bool is_gated_metric(const std::string& metric) { return metric == kLatency || is_memory_metric(metric); }

bool metric_order(const std::string& a, const std::string& b) {
  static const char* const kFirst[] = {"latency_ms", "mem_alloc", "mem_reserved", "mem_used"};
  auto rank = [](const std::string& m) {
    for (int i = 0; i < 4; ++i)
      if (m == kFirst[i]) return i;
    return is_memory_metric(m) ? 4 : 5;
  };
  return std::make_pair(rank(a), std::cref(a)) < std::make_pair(rank(b), std::cref(b));
}

const char* evidence_name(Evidence e) {
  switch (e) {
    case Evidence::kTested: return "tested";
    case Evidence::kUnderpowered: return "underpowered";
    case Evidence::kSingle: return "single";
  }
  return "?";
}

const char* state_name(CaseState s) {
  switch (s) {
    case CaseState::kRan: return "ran";
    case CaseState::kDidNotFit: return "did not fit";
    case CaseState::kFailed: return "failed";
  }
  return "?";
}

double MetricChange::change_pct() const {
  if (!ratio) return std::numeric_limits<double>::infinity();
  return (*ratio - 1) * 100;
}

Comparison compare_runs(const results::RunSet& old_runs, const results::RunSet& new_runs, const CompareOptions& options) {
  if (!(options.alpha > 0 && options.alpha < 1)) throw std::invalid_argument("compare_runs: alpha must be in (0, 1)");
  if (options.threshold_pct && !(*options.threshold_pct >= 0))
    throw std::invalid_argument("compare_runs: the threshold must be >= 0");
  Comparison out;
  out.options = options;
  out.old_sources = old_runs.sources;
  out.new_sources = new_runs.sources;
  out.old_passed_over = old_runs.passed_over;
  out.new_passed_over = new_runs.passed_over;
  out.old_context = old_runs.context;
  out.new_context = new_runs.context;

  std::map<results::CaseId, std::pair<const results::CaseRuns*, const results::CaseRuns*>> by_id;
  for (const results::CaseRuns& c : old_runs.cases) by_id[c.id].first = &c;
  for (const results::CaseRuns& c : new_runs.cases) by_id[c.id].second = &c;

  for (const auto& [id, sides] : by_id) {
    const auto [o, n] = sides;
    CaseComparison c;
    c.id = id;
    c.name = o ? o->label : n->label;
    if (o) {
      c.old_side = side_of(*o);
      for (const std::string& m : metrics_of(*o)) out.old_metrics.insert(m);
    }
    if (n) {
      c.new_side = side_of(*n);
      for (const std::string& m : metrics_of(*n)) out.new_metrics.insert(m);
    }
    if (!o || !n) {
      ++(o ? out.old_only : out.new_only);
      out.cases.push_back(std::move(c));
      continue;
    }
    ++out.matched;
    const bool old_ran = c.old_side->state == CaseState::kRan, new_ran = c.new_side->state == CaseState::kRan;
    c.stopped_running = old_ran && !new_ran;
    c.started_running = !old_ran && new_ran;
    if (old_ran && new_ran) {
      const std::set<std::string> old_names = metrics_of(*o), new_names = metrics_of(*n);
      std::vector<std::string> names;
      std::set_intersection(old_names.begin(), old_names.end(), new_names.begin(), new_names.end(),
                            std::back_inserter(names));
      std::sort(names.begin(), names.end(), metric_order);
      for (const std::string& m : names) {
        if (!wanted(options, m)) continue;
        const SideValues ov = side_values(*o, m), nv = side_values(*n, m);
        if (!ov.present || !nv.present) continue;
        c.metrics.push_back(compare_metric(m, ov, nv, options));
      }
    }
    c.worse = options.threshold_pct &&
              (c.stopped_running || std::any_of(c.metrics.begin(), c.metrics.end(),
                                                [](const MetricChange& m) { return m.worse; }));
    out.worse_cases += c.worse;
    out.cases.push_back(std::move(c));
  }
  std::stable_sort(out.cases.begin(), out.cases.end(), case_order);

  // Per metric: the geometric mean of the ratios (as a mean of logarithms), and the counts.
  std::map<std::string, std::pair<double, MetricSummary>> sums;  // sum of log ratios, summary
  for (const CaseComparison& c : out.cases) {
    for (const MetricChange& m : c.metrics) {
      auto& [log_sum, s] = sums[m.metric];
      s.metric = m.metric;
      if (m.ratio && *m.ratio > 0 && m.old_value >= 0) {
        log_sum += std::log(*m.ratio);
        ++s.cases;
      } else {
        ++s.left_out;
      }
      if (m.significant) {
        // The direction the test found: the old sample's U above half of all pairs means
        // its values tend to be the larger ones.
        const double half = 0.5 * m.old_n * m.new_n;
        ++(m.test->u > half ? s.lower : s.higher);
      }
      s.untested += m.evidence != Evidence::kTested;
      s.worse += m.worse;
    }
  }
  for (auto& [name, entry] : sums) {
    MetricSummary s = entry.second;
    if (s.cases > 0) s.geomean_ratio = std::exp(entry.first / s.cases);
    out.summaries.push_back(std::move(s));
  }
  std::sort(out.summaries.begin(), out.summaries.end(),
            [](const MetricSummary& a, const MetricSummary& b) { return metric_order(a.metric, b.metric); });
  return out;
}

}  // namespace p4s::compare
