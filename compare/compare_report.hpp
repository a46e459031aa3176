// A Comparison (fit/compare.hpp) as people read it (an aligned table) and as scripts read it
// (one JSON object).
//
// The JSON object, schema version 1 (a reader should check "schema_version"; a change that
// removes or renames a key raises it, new keys may appear without):
//
// {
//   "schema_version": 1, "kind": "p4s-compare",
//   "alpha": 0.05, "threshold_pct": 5 or null,
//   "test": "<how p-values were computed>",
//   "old": {"label": "<file or folder>", "sources": ["<file>", ...],
//           "passed_over": ["<JSON file in the folder without results>", ...],
//           "context": {"<key>": "<value>"}},
//   "new": {... the same ...},
//   "cases": [{
//     "name": "Net/resnet18/bs:32", "in": "both" | "old" | "new",
//     "old": {"state": "ran" | "did_not_fit" | "failed", "runs": 5, "out_of_memory": 0,
//             "failed": 0, "failure": "<first non-OOM error>" (when failed > 0),
//             "aggregates_only": false} or null,
//     "new": {... the same ...} or null,
//     "stopped_running": false, "started_running": false, "worse": false,
//     "metrics": [{
//       "metric": "latency_ms", "old": 699.0, "new": 742.1,       (medians; ms or the counter's unit)
//       "ratio": 1.0616 or null, "change_pct": 6.16 or null,      (null: old 0, new not)
//       "old_runs": 5, "new_runs": 5, "old_n": 5, "new_n": 5,     (repetitions; values tested)
//       "evidence": "tested" | "underpowered" | "single",
//       "u": 0, "p_value": 0.0079, "method": "exact" | "asymptotic",   (null without a test)
//       "significant": true, "gated": true, "worse": true}]}],
//   "summary": {
//     "matched": 120, "old_only": 2, "new_only": 1, "worse_cases": 3,
//     "metrics": [{"metric": "latency_ms", "geomean_ratio": 0.59 or null,
//                  "geomean_change_pct": -41.2 or null, "cases": 118, "left_out": 0,
//                  "lower": 118, "higher": 0, "untested": 0, "worse": 0}],
//     "old_only_metrics": [...], "new_only_metrics": [...]},
//   "exit_status": 0 | 3
// }
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compare/compare.hpp"

namespace p4s::compare {

inline constexpr int kCompareSchemaVersion = 1;

// The exit status `p4s compare` returns for it: 3 when a threshold was given and some case is
// worse, else 0.
inline constexpr int kExitWorse = 3;
int compare_exit_status(const Comparison& c);

// One line: how the p-values were computed.
std::string test_description();

nlohmann::json comparison_json(const Comparison& c);

// The table, one-sided cases, failures, summary and notes; ends with a newline.
std::string comparison_table(const Comparison& c);

// "+6.2%", "-41.0%", "+inf%".
std::string format_change(double change_pct);

// A metric's value with its unit where the name says it: "699.0 ms", "848.4 MiB", "1234".
std::string format_value(const std::string& metric, double value);

}  // namespace p4s::compare
