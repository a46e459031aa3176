// Reading Google Benchmark JSON result files into measurements of training steps
// (measurements.hpp), with the names, counters and schema of format.hpp.
#pragma once

#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "results_format/format.hpp"
#include "results_format/measurements.hpp"

namespace p4s::results {

// A JSON file that is no Google Benchmark output (no "benchmarks" list), as opposed to a
// broken one: callers reading a whole folder may pass over these.
class NotBenchmarkOutputError : public InputError {
 public:
  using InputError::InputError;
};

// Reads one or many Google Benchmark JSON files. Repetitions and aggregates are merged: a
// `median` aggregate is preferred, else the median of the iteration runs; the same case in
// several files counts as more runs. Entries whose error says out of memory become
// "did not fit" results. Bare NaN / Infinity tokens (which Google Benchmark can write) are
// read as missing values. Throws InputError for unreadable or malformed files, a newer
// p4s_schema_version, batch sizes beyond 2^24, and values a step that ran cannot have: a
// real_time of 0 or over a year, a mem_alloc or mem_reserved under 1 byte, memory over 2^60
// bytes.
ResultSet read_results(const std::vector<std::string>& paths);

// The same for JSON text already in memory; `source` names it in errors.
ResultSet parse_results(const std::string& json_text, const std::string& source);

// Every run of every case, unmerged: what comparing repetitions needs. Same files, same
// refusals (InputError, NotBenchmarkOutputError) as read_results; no non-case names.
// With `pass_over_other_json`, a file that is valid JSON but no Google Benchmark output (a
// NetSpec or model file beside the results) is listed in passed_over instead of refused.
RunSet read_runs(const std::vector<std::string>& paths, bool pass_over_other_json = false);
RunSet parse_runs(const std::string& json_text, const std::string& source);

// What read_results makes of these runs: per file, a case's median aggregate if it has one,
// else its iteration runs; then the weighted median over files. Cases with only failures
// other than out-of-memory are left out (they count in failed_other).
ResultSet merge_runs(const RunSet& runs);

// Replaces bare NaN / Infinity tokens outside strings with null, so that a strict JSON
// parser accepts Google Benchmark's output. Exposed for tests.
std::string null_nonfinite_tokens(const std::string& json_text);

}  // namespace p4s::results
