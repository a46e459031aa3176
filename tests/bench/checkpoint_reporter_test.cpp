// The checkpointing JSON reporter: after every reported case the file is complete JSON that
// fit/results.hpp reads; the final file is Google Benchmark's own JSONReporter text; failed
// writes are said once and retried; and what a checkpoint costs for a sweep of hundreds of
// cases.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/checkpoint_reporter.hpp"
#include "common/atomic_file.hpp"
#include "results_format/reader.hpp"

namespace p4s::bench {
namespace {

using CaseRun = benchmark::BenchmarkReporter::Run;

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "p4s_checkpoint_" + std::to_string(getpid()) + "_" + name;
}

// A network case as the bench reports it: manual time in ms and the memory counters.
CaseRun net_run(int64_t batch, bool oom = false) {
  CaseRun r;
  r.run_name.function_name = "Net/p4s_tiny";
  r.run_name.args = "bs:" + std::to_string(batch);
  r.run_name.time_type = "manual_time";
  r.family_index = 0;
  r.per_family_instance_index = batch;
  r.repetitions = 1;
  r.repetition_index = 0;
  r.time_unit = benchmark::kMillisecond;
  if (oom) {
    r.error_occurred = true;
    r.error_message = "out of memory: \"quoted\"\n and a new line";
    return r;
  }
  r.iterations = 17;
  r.real_accumulated_time = 17 * (0.0123 + 1e-4 * static_cast<double>(batch));
  r.cpu_accumulated_time = r.real_accumulated_time;
  r.counters["mem_alloc"] = benchmark::Counter(123456789.0 + static_cast<double>(batch) * 1e6);
  r.counters["mem_used"] = benchmark::Counter(98765432.0);
  r.counters["flops"] = benchmark::Counter(1.5e9 * static_cast<double>(batch));
  return r;
}

// The text without its "date" line: two reporters write the time they start.
std::string without_date(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.find("\"date\":") == std::string::npos) out += line + "\n";
  return out;
}

TEST(CheckpointingJsonReporter, EveryCheckpointIsValidJsonWithTheCasesSoFarAndTheEndIsGoogleBenchmarksOwnText) {
  const std::string path = temp_path("results.json");
  CheckpointingJsonReporter reporter(path);
  benchmark::JSONReporter reference;
  std::ostringstream reference_text;
  reference.SetOutputStream(&reference_text);
  reference.SetErrorStream(&reference_text);

  const benchmark::BenchmarkReporter::Context context;
  ASSERT_TRUE(reporter.ReportContext(context));
  ASSERT_TRUE(reference.ReportContext(context));
  {
    const nlohmann::json j = nlohmann::json::parse(read_file(path));
    EXPECT_TRUE(j.at("context").contains("num_cpus"));
    EXPECT_TRUE(j.at("benchmarks").empty());
  }
  const std::vector<std::vector<CaseRun>> cases = {{net_run(2)}, {net_run(4, true)}, {net_run(8)}};
  size_t done = 0;
  for (const std::vector<CaseRun>& c : cases) {
    reporter.ReportRuns(c);
    reference.ReportRuns(c);
    ++done;
    // What is on disk now: complete JSON, every case so far, read by the fit stage as it is.
    const std::string text = read_file(path);
    const nlohmann::json j = nlohmann::json::parse(text);
    ASSERT_EQ(j.at("benchmarks").size(), done);
    EXPECT_EQ(j.at("benchmarks").back().at("name"), c.front().benchmark_name());
    const results::ResultSet rs = results::parse_results(text, path);
    EXPECT_EQ(rs.nets.size(), done);
  }
  EXPECT_EQ(reporter.runs(), 3u);
  reporter.Finalize();
  reference.Finalize();
  EXPECT_TRUE(reporter.complete());
  EXPECT_FALSE(reporter.error());
  EXPECT_EQ(reporter.writes(), 5);  // the context, three cases, the end
  EXPECT_EQ(without_date(read_file(path)), without_date(reference_text.str()));

  const nlohmann::json j = nlohmann::json::parse(read_file(path));
  const nlohmann::json& oom = j.at("benchmarks")[1];
  EXPECT_TRUE(oom.at("error_occurred").get<bool>());
  EXPECT_EQ(oom.at("error_message"), "out of memory: \"quoted\"\n and a new line");
  const results::ResultSet rs = results::read_results({path});
  ASSERT_EQ(rs.nets.size(), 3u);
  EXPECT_FALSE(rs.nets[1].fits);
  EXPECT_NEAR(*rs.nets[0].values.latency_ms, 12.5, 1e-9);  // 0.0125 s per iteration
  EXPECT_EQ(*rs.nets[2].values.mem_alloc, 131456789.0);
  std::remove(path.c_str());
}

// A resumed sweep: the earlier entries come first in every checkpoint and in the final file, and
// the context gains the entries asked for at each write (the device's state at the end).
TEST(CheckpointingJsonReporter, PriorEntriesAndContextExtrasAreInEveryWrite) {
  const std::string path = temp_path("resumed.json");
  CheckpointingJsonReporter reporter(path);
  reporter.set_prior_entries({R"({"name": "Net/p4s_tiny/bs:1/manual_time", "real_time": 2.5})",
                              "{\n  \"name\": \"Net/p4s_tiny/bs:2/manual_time\",\n  \"error_occurred\": true\n}"});
  int asked = 0;
  reporter.set_context_extras([&asked] {
    ++asked;
    return std::vector<std::pair<std::string, std::string>>{{"p4s_state_end_cpu_mhz", std::to_string(asked)},
                                                            {"p4s_\"odd\"", "a\nb"}};
  });
  const auto names = [&] {
    std::vector<std::string> out;
    const nlohmann::json doc = nlohmann::json::parse(read_file(path));
    for (const auto& e : doc.at("benchmarks")) out.push_back(e.at("name"));
    return out;
  };
  const benchmark::BenchmarkReporter::Context context;
  ASSERT_TRUE(reporter.ReportContext(context));
  EXPECT_EQ(names(), (std::vector<std::string>{"Net/p4s_tiny/bs:1/manual_time", "Net/p4s_tiny/bs:2/manual_time"}));
  reporter.ReportRuns({net_run(3)});
  EXPECT_EQ(names(), (std::vector<std::string>{"Net/p4s_tiny/bs:1/manual_time", "Net/p4s_tiny/bs:2/manual_time",
                                               "Net/p4s_tiny/bs:3/manual_time"}));
  reporter.ReportRuns({net_run(4)});
  reporter.Finalize();
  EXPECT_TRUE(reporter.complete());
  const std::string text = read_file(path);
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("benchmarks").size(), 4u);
  EXPECT_EQ(j.at("benchmarks")[0].at("real_time"), 2.5);
  EXPECT_EQ(j.at("context").at("p4s_state_end_cpu_mhz"), "4");  // the last write's
  EXPECT_EQ(j.at("context").at("p4s_\"odd\""), "a\nb");
  EXPECT_TRUE(j.at("context").contains("num_cpus"));
  const results::ResultSet rs = results::parse_results(text, path);
  EXPECT_EQ(rs.nets.size(), 3u);  // the failed case is no measurement
}

TEST(CheckpointingJsonReporter, NonFiniteCountersStayReadable) {
  const std::string path = temp_path("nan.json");
  CheckpointingJsonReporter reporter(path);
  ASSERT_TRUE(reporter.ReportContext(benchmark::BenchmarkReporter::Context()));
  CaseRun r = net_run(2);
  r.counters["mem_used"] = benchmark::Counter(std::numeric_limits<double>::quiet_NaN());
  r.counters["flops"] = benchmark::Counter(std::numeric_limits<double>::infinity());
  reporter.ReportRuns({r});
  const std::string text = read_file(path);
  EXPECT_NE(text.find("NaN"), std::string::npos) << text;  // as Google Benchmark writes it
  const results::ResultSet rs = results::parse_results(text, path);
  ASSERT_EQ(rs.nets.size(), 1u);
  EXPECT_FALSE(rs.nets[0].values.mem_used);
  EXPECT_TRUE(rs.nets[0].values.mem_alloc);
  std::remove(path.c_str());
}

TEST(CheckpointingJsonReporter, AFailedWriteIsSaidOnceAndTheNextCheckpointTriesAgain) {
  int attempts = 0;
  bool failing = true;
  std::string written;
  std::vector<std::string> said;
  CheckpointingJsonReporter reporter(
      "/results/out.json", [&](const std::string& e) { said.push_back(e); },
      [&](const std::string& path, const std::string& text) {
        ++attempts;
        if (failing) throw std::runtime_error(path + ": cannot write: No space left on device");
        written = text;
      });
  ASSERT_TRUE(reporter.ReportContext(benchmark::BenchmarkReporter::Context()));
  reporter.ReportRuns({net_run(2)});
  reporter.ReportRuns({net_run(4)});
  EXPECT_EQ(attempts, 3);
  ASSERT_EQ(said.size(), 1u);  // one line for the whole run of failures
  EXPECT_EQ(said[0], "/results/out.json: cannot write: No space left on device");
  ASSERT_TRUE(reporter.error());
  EXPECT_EQ(reporter.writes(), 0);

  failing = false;
  reporter.ReportRuns({net_run(8)});
  EXPECT_FALSE(reporter.error());
  EXPECT_EQ(nlohmann::json::parse(written).at("benchmarks").size(), 3u);  // nothing was lost

  failing = true;
  reporter.Finalize();
  EXPECT_EQ(said.size(), 2u);  // a new run of failures is said again
  EXPECT_FALSE(reporter.complete());
  EXPECT_TRUE(reporter.error());
}

// What checkpointing costs: the whole file rewritten (and flushed to disk) after each case of a
// sweep of 500 cases with the bench's counters, against Google Benchmark's plain stream.
TEST(CheckpointingJsonReporter, CostOfCheckpointsForAFiveHundredCaseSweep) {
  constexpr int kCases = 500;
  const std::string path = temp_path("cost.json");
  CheckpointingJsonReporter reporter(path);
  ASSERT_TRUE(reporter.ReportContext(benchmark::BenchmarkReporter::Context()));
  for (int i = 0; i < kCases; ++i) {
    CaseRun r = net_run(1 + i);
    for (const char* k : {"kernels", "kernel_time", "gpu_busy", "fwd_time", "bwd_time", "step_time"})
      r.counters[k] = benchmark::Counter(1.0 + i);
    reporter.ReportRuns({r});
  }
  reporter.Finalize();
  ASSERT_TRUE(reporter.complete());
  const std::string text = read_file(path);
  EXPECT_EQ(nlohmann::json::parse(text).at("benchmarks").size(), static_cast<size_t>(kCases));

  const double per_case_ms = 1e3 * reporter.write_seconds() / kCases;
  const double last_kib = static_cast<double>(text.size()) / 1024.0;
  std::printf("checkpoints: %d cases, final file %.0f KiB, %.2f s in all, %.2f ms per case\n", kCases, last_kib,
              reporter.write_seconds(), per_case_ms);
  RecordProperty("checkpoint_ms_per_case", std::to_string(per_case_ms));
  // A case of a sweep takes at least its minimum time (0.1 s in the quick sweep); checkpoints
  // must stay a small part of that.
  EXPECT_LT(per_case_ms, 50.0);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace p4s::bench
