// Comparing two sets of Google Benchmark results case by case: an old and a new run of the
// same sweep (another LibTorch, another JetPack, another thread count), as `p4s compare`
// shows it.
//
// Cases are matched by their CaseId (fit/results.hpp), so Google Benchmark's name parts
// (`/manual_time`, `/repeats:5`, ...) do not matter. For every case that ran on both sides,
// every metric with values on both sides is compared: `latency_ms` (real_time) and every
// numeric user counter (`mem_alloc`, `mem_reserved`, `mem_used`, kernel counters, ...).
//
// Per metric and side, the values are the repetitions (iteration entries). A side whose file
// holds only the `median` aggregate of a case (Google Benchmark's
// --benchmark_report_aggregates_only) has no repetitions to test: its value is that median.
//
//   value      median of the side's repetitions (the weighted median over files when they
//              come from aggregates only), in the metric's own unit (milliseconds for
//              latency_ms, bytes for memory counters)
//   ratio      new / old (1 when both are 0; absent when old is 0 and new is not)
//   test       two-sided Mann-Whitney U (fit/mann_whitney.hpp) when both sides have at least
//              2 repetitions; significant when p < alpha
//   evidence   kTested when the test can reach alpha with these sizes at all; otherwise
//              kUnderpowered (>= 2 repetitions each, yet even complete separation gives
//              p >= alpha, e.g. 3 + 3) or kSingle (a side has fewer than 2)
//   worse      with a threshold, for latency and memory metrics (larger is worse): the change
//              is above the threshold, and significant where the evidence is kTested; where it
//              is not, the plain relative change of the medians decides
//
// A case that ran on the old side and did not run on the new one (out of memory, or another
// error) is worse under any threshold.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compare/mann_whitney.hpp"
#include "results_format/reader.hpp"

namespace p4s::compare {

struct CompareOptions {
  double alpha = 0.05;                  // significance level; precondition: 0 < alpha < 1
  std::optional<double> threshold_pct;  // percent, >= 0; none: nothing is judged worse
  std::vector<std::string> metrics;     // compare only these; empty: every metric
};

// latency_ms, and the memory metrics below: larger is worse, and the threshold applies.
bool is_gated_metric(const std::string& metric);
// mem_* counters, cuda_malloc_* counters and Google Benchmark's max_bytes_used: bytes.
bool is_memory_metric(const std::string& metric);
// latency_ms first, then memory metrics, then the others, each group by name.
bool metric_order(const std::string& a, const std::string& b);

enum class Evidence { kTested, kUnderpowered, kSingle };
// "tested", "underpowered", "single".
const char* evidence_name(Evidence e);

struct MetricChange {
  std::string metric;
  double old_value = 0, new_value = 0;  // medians, in the metric's unit
  int old_runs = 0, new_runs = 0;       // repetitions behind the values
  int old_n = 0, new_n = 0;             // values the test sees (0: aggregates only)
  std::optional<double> ratio;          // new / old
  std::optional<UTestResult> test;      // when both sides have >= 2 values
  Evidence evidence = Evidence::kSingle;
  bool significant = false;             // test && p < alpha
  bool gated = false;                   // larger is worse (is_gated_metric)
  bool worse = false;                   // see the top of this file; only with a threshold

  // (ratio - 1) * 100; +infinity when old is 0 and new is not.
  double change_pct() const;
};

enum class CaseState { kRan, kDidNotFit, kFailed };
// "ran", "did not fit", "failed".
const char* state_name(CaseState s);

struct CaseSide {
  CaseState state = CaseState::kRan;
  int runs = 0;               // successful repetitions
  int out_of_memory = 0;      // out-of-memory error entries
  int failed = 0;             // other error entries
  std::string failure;        // the first other error's message
  bool aggregates_only = false;  // values from median aggregates: nothing to test
};

struct CaseComparison {
  results::CaseId id;
  std::string name;                            // e.g. "Net/resnet18/bs:32"
  std::optional<CaseSide> old_side, new_side;  // none: not in that side's files
  std::vector<MetricChange> metrics;           // when both ran; in metric_order
  bool stopped_running = false;                // ran before, does not now
  bool started_running = false;                // did not run before, runs now
  bool worse = false;                          // stopped_running or a metric worse (threshold)

  bool matched() const { return old_side && new_side; }
};

struct MetricSummary {
  std::string metric;
  std::optional<double> geomean_ratio;  // over `cases`; none when no case qualifies
  int cases = 0;     // cases that ran on both sides with this metric, ratio finite and > 0
  int left_out = 0;  // cases with a zero (or negative) value on one side only
  int lower = 0, higher = 0;  // significant decreases and increases
  int untested = 0;           // comparisons whose evidence is not kTested
  int worse = 0;              // cases worse on this metric (threshold)
};

struct Comparison {
  CompareOptions options;
  std::string old_label, new_label;  // what the user named (a file or a folder)
  std::vector<std::string> old_sources, new_sources;
  std::vector<std::string> old_passed_over, new_passed_over;  // JSON files that hold no results
  std::map<std::string, std::string> old_context, new_context;
  std::vector<CaseComparison> cases;     // networks first, then layers; each by name, then size
  std::vector<MetricSummary> summaries;  // in metric_order
  std::set<std::string> old_metrics, new_metrics;  // every metric seen on each side
  int matched = 0, old_only = 0, new_only = 0;
  int worse_cases = 0;  // with a threshold
};

// Compares `new_runs` against `old_runs`. Preconditions: 0 < alpha < 1, threshold >= 0.
Comparison compare_runs(const results::RunSet& old_runs, const results::RunSet& new_runs, const CompareOptions& options);

}  // namespace p4s::compare
