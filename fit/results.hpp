// Reading Google Benchmark JSON result files into measurements of training steps.
// See README, "Result files": whole-network cases are `Net/<net>/bs:<N>` (any Google Benchmark
// suffix may follow), layer cases `<Kind>/<arg>:<value>/...`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace p4s::fit {

// What a predictor can be fitted on. Memory targets are bytes, latency milliseconds.
enum class Target { kLatencyMs, kMemAlloc, kMemReserved, kMemUsed };
inline constexpr Target kAllTargets[] = {Target::kLatencyMs, Target::kMemAlloc,
                                         Target::kMemReserved, Target::kMemUsed};
// "latency_ms", "mem_alloc", "mem_reserved", "mem_used": the names in model files and
// `p4s predict --json`.
const char* target_name(Target t);
std::optional<Target> target_from_name(const std::string& name);

// A file that is not usable as results. what() is one line naming the file, the field or
// entry, and the problem; control characters (from names in the file) are written as \xNN.
class ResultsError : public std::runtime_error {
 public:
  explicit ResultsError(const std::string& what);
};

// One measured quantity per target, absent where the file has none.
struct Measured {
  std::optional<double> latency_ms;
  std::optional<double> mem_alloc;
  std::optional<double> mem_reserved;
  std::optional<double> mem_used;

  const std::optional<double>& get(Target t) const;
  std::optional<double>& get(Target t);
};

// One network at one batch size: a training step that ran (values are medians over the
// repetitions and files that measured it), or one that did not fit in memory.
struct NetResult {
  std::string net;  // the NetSpec's name
  int64_t batch = 0;
  bool fits = true;  // false: every run of it ran out of memory
  Measured values;   // empty when !fits
  int runs = 0;      // repetitions (or files) behind the medians
};

// One layer case: `kind` ("Conv2d", "Linear", "BatchNorm2d", ...) and its named arguments.
struct LayerResult {
  std::string kind;
  std::map<std::string, int64_t> args;  // e.g. {"cin": 64, "cout": 64, "k": 3, ..., "bs": 32}
  bool fits = true;
  Measured values;
  int runs = 0;
};

struct ResultSet {
  std::vector<NetResult> nets;      // sorted by (net, batch)
  std::vector<LayerResult> layers;  // sorted by (kind, args)
  std::vector<std::string> sources; // the files read
  std::map<std::string, std::string> context;  // the first file's context, as strings
  int failed_other = 0;  // error entries that were not out-of-memory (not data; counted)
};

// Reads one or many Google Benchmark JSON files. Repetitions and aggregates are merged: a
// `median` aggregate is preferred, else the median of the iteration runs; the same case in
// several files counts as more runs. Entries whose error says out of memory become
// "did not fit" results. Bare NaN / Infinity tokens (which Google Benchmark can write) are
// read as missing values. Throws ResultsError for unreadable or malformed files.
ResultSet read_results(const std::vector<std::string>& paths);

// The same for JSON text already in memory; `source` names it in errors.
ResultSet parse_results(const std::string& json_text, const std::string& source);

// Replaces bare NaN / Infinity tokens outside strings with null, so that a strict JSON
// parser accepts Google Benchmark's output. Exposed for tests.
std::string null_nonfinite_tokens(const std::string& json_text);

}  // namespace p4s::fit
