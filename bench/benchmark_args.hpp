// Google Benchmark's own flags as the bench passes them on. Their values are checked first:
// Google Benchmark answers some bad values with its usage text and exit status 0 (an unknown
// --benchmark_format), others with two lines, or only once the run starts (an output file in
// a folder that does not exist). And the JSON results file is taken over: it is written by
// CheckpointingJsonReporter (checkpoint_reporter.hpp), so that a killed sweep leaves valid JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace p4s::bench {

struct BenchmarkArgs {
  // The arguments for Google Benchmark, in order (argv[0] not included).
  std::vector<std::string> args;
  // The JSON results file the user asked for (--benchmark_out=FILE, in the default or an
  // explicit json --benchmark_out_format, or Google Benchmark's BENCHMARK_OUT and
  // BENCHMARK_OUT_FORMAT environment variables). When set, `args` ends with
  // --benchmark_out=/dev/null, so that Google Benchmark neither writes nor truncates the file:
  // the checkpointing reporter, given to it as its file reporter, writes it.
  std::optional<std::string> json_out;
  // The --benchmark_filter given (the last), for messages.
  std::optional<std::string> filter;
};

// Google Benchmark's environment variables that name its output (null: not set).
struct BenchmarkEnvironment {
  const char* out = nullptr;         // BENCHMARK_OUT
  const char* out_format = nullptr;  // BENCHMARK_OUT_FORMAT
};
BenchmarkEnvironment benchmark_environment();  // from the process's environment

// Checks the values of Google Benchmark's flags among `user_args` (last one wins, as Google
// Benchmark reads them): --benchmark_format and --benchmark_out_format (console, json or csv),
// --benchmark_out (a file name whose folder exists), --benchmark_repetitions (1 to 1000000),
// --benchmark_min_time (seconds, positive and finite, at most a day), --benchmark_min_warmup_time
// (seconds, non-negative, at most a day), --benchmark_time_unit (ns, us, ms or s),
// --benchmark_color (not empty), --v (an integer). Throws InputError (options.hpp), one line
// starting with the flag, for a bad value; other arguments are left to Google Benchmark.
BenchmarkArgs check_benchmark_args(const std::vector<std::string>& user_args,
                                   const BenchmarkEnvironment& env = {});

}  // namespace p4s::bench
