// Google Benchmark's flags as the bench passes them on: bad values are refused in one line
// naming the flag, the JSON results file is taken over by the checkpointing reporter (and
// Google Benchmark pointed at /dev/null), other formats are left to Google Benchmark.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "bench/benchmark_args.hpp"
#include "bench/options.hpp"

namespace p4s::bench {
namespace {

std::string error_of(const std::vector<std::string>& args, const BenchmarkEnvironment& env = {}) {
  try {
    check_benchmark_args(args, env);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kFolder = ::testing::TempDir();

TEST(BenchmarkArgs, TakesOverTheJsonResultsFile) {
  const std::string out = kFolder + "results.json";
  const BenchmarkArgs a = check_benchmark_args({"--benchmark_filter=Net", "--benchmark_out=" + out});
  ASSERT_TRUE(a.json_out);
  EXPECT_EQ(*a.json_out, out);
  EXPECT_EQ(a.args, (std::vector<std::string>{"--benchmark_filter=Net", "--benchmark_out=" + out,
                                              "--benchmark_out=/dev/null"}));
  // The explicit json format, the last flag winning, as Google Benchmark reads them.
  const BenchmarkArgs b = check_benchmark_args({"--benchmark_out_format=csv", "--benchmark_out=" + kFolder + "a.json",
                                                "--benchmark_out_format=json", "--benchmark_out=" + out});
  EXPECT_EQ(*b.json_out, out);
  EXPECT_EQ(b.args.back(), "--benchmark_out=/dev/null");
}

TEST(BenchmarkArgs, LeavesOtherFormatsAndNoOutputToGoogleBenchmark) {
  const std::vector<std::string> csv = {"--benchmark_out=" + kFolder + "r.csv", "--benchmark_out_format=csv"};
  const BenchmarkArgs a = check_benchmark_args(csv);
  EXPECT_FALSE(a.json_out);
  EXPECT_EQ(a.args, csv);
  const BenchmarkArgs b = check_benchmark_args({"--benchmark_filter=Linear"});
  EXPECT_FALSE(b.json_out);
  EXPECT_EQ(b.args, std::vector<std::string>{"--benchmark_filter=Linear"});
}

TEST(BenchmarkArgs, ReadsGoogleBenchmarksEnvironmentAsItDoes) {
  const std::string out = kFolder + "env.json";
  BenchmarkEnvironment env;
  env.out = out.c_str();
  const BenchmarkArgs a = check_benchmark_args({}, env);
  ASSERT_TRUE(a.json_out);
  EXPECT_EQ(*a.json_out, out);
  env.out_format = "console";
  EXPECT_FALSE(check_benchmark_args({}, env).json_out);
  EXPECT_TRUE(check_benchmark_args({"--benchmark_out_format=json"}, env).json_out);  // the flag wins
  env.out_format = "xml";
  EXPECT_EQ(error_of({}, env).rfind("BENCHMARK_OUT_FORMAT: --benchmark_out_format=xml: ", 0), 0u) << error_of({}, env);
  env.out_format = nullptr;
  const std::string missing = kFolder + "no_such_folder/env.json";
  env.out = missing.c_str();
  EXPECT_NE(error_of({}, env).find("BENCHMARK_OUT: --benchmark_out=" + missing), std::string::npos);
}

TEST(BenchmarkArgs, RefusesBadValuesInOneLineNamingTheFlag) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--benchmark_format=xml", "--benchmark_format=xml: not a format (console, json or csv)"},
      {"--benchmark_out_format=yaml", "--benchmark_out_format=yaml: not a format (console, json or csv)"},
      {"--benchmark_out=", "--benchmark_out=: needs a file name"},
      {"--benchmark_out=" + kFolder + "no_such_folder/r.json",
       "--benchmark_out=" + kFolder + "no_such_folder/r.json: the folder " + kFolder + "no_such_folder does not exist"},
      {"--benchmark_repetitions=0", "--benchmark_repetitions=0: not a whole number from 1 to 1000000"},
      {"--benchmark_repetitions=-3", "--benchmark_repetitions=-3: not a whole number from 1 to 1000000"},
      {"--benchmark_repetitions=99999999999", "--benchmark_repetitions=99999999999: not a whole number from 1 to 1000000"},
      {"--benchmark_repetitions=two", "--benchmark_repetitions=two: not a whole number from 1 to 1000000"},
      {"--benchmark_min_time=abc", "--benchmark_min_time=abc: not a number of seconds above 0 and at most 86400"},
      {"--benchmark_min_time=0", "--benchmark_min_time=0: not a number of seconds above 0 and at most 86400"},
      {"--benchmark_min_time=nan", "--benchmark_min_time=nan: not a number of seconds above 0 and at most 86400"},
      {"--benchmark_min_time=1e30", "--benchmark_min_time=1e30: not a number of seconds above 0 and at most 86400"},
      {"--benchmark_min_warmup_time=-1", "--benchmark_min_warmup_time=-1: not a number of seconds from 0 to 86400"},
      {"--benchmark_time_unit=min", "--benchmark_time_unit=min: not ns, us, ms or s"},
      {"--benchmark_color=", "--benchmark_color=: needs a value (auto, true or false)"},
      {"--v=loud", "--v=loud: not a verbosity level (a whole number)"},
  };
  for (const auto& [arg, message] : cases) EXPECT_EQ(error_of({arg}), message) << arg;
  // A folder where a file is to go.
  EXPECT_EQ(error_of({"--benchmark_out=" + kFolder}), "--benchmark_out=" + kFolder + ": is a folder, not a file");
}

TEST(BenchmarkArgs, GoodValuesPass) {
  for (const char* arg :
       {"--benchmark_format=json", "--benchmark_repetitions=5", "--benchmark_min_time=0.01",
        "--benchmark_min_warmup_time=0", "--benchmark_time_unit=us", "--benchmark_color=false", "--v=2",
        "--benchmark_report_aggregates_only=true", "--benchmark_list_tests"})
    EXPECT_EQ(error_of({arg}), "") << arg;
}

}  // namespace
}  // namespace p4s::bench
