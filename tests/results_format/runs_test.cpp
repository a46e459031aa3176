// Reading result files without merging: every repetition with all its counters, the case's
// label without Google Benchmark's name parts, failures per case, and passing over JSON files
// that hold no results.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "common/atomic_file.hpp"
#include "results_format/reader.hpp"

namespace p4s::results {
namespace {

const CaseRuns* find(const RunSet& r, const std::string& label) {
  for (const CaseRuns& c : r.cases)
    if (c.label == label) return &c;
  return nullptr;
}

std::string temp_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/p4s_runs_" + std::to_string(getpid()) + "_" + name;
  write_file_atomically(path, text);
  return path;
}

TEST(ResultRuns, KeepsEveryRepetitionWithAllItsCounters) {
  const std::string text = R"({"context": {"p4s_threads": "1"}, "benchmarks": [
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 0, "iterations": 7, "threads": 1, "real_time": 10,
     "cpu_time": 9, "time_unit": "ms", "mem_alloc": 100, "kernel_time": 4.5, "gpu_busy": 0.25,
     "label": "text is not a counter", "flops": 2e9},
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 1, "real_time": 30000, "time_unit": "us", "mem_alloc": 300,
     "kernel_time": NaN},
    {"name": "Net/a/bs:4/manual_time", "run_name": "Net/a/bs:4/manual_time", "run_type": "iteration",
     "repetitions": 3, "repetition_index": 2, "real_time": 20, "time_unit": "ms", "mem_alloc": 200},
    {"name": "Net/a/bs:4/manual_time_mean", "run_name": "Net/a/bs:4/manual_time", "run_type": "aggregate",
     "aggregate_name": "mean", "repetitions": 3, "real_time": 20, "time_unit": "ms"},
    {"name": "Net/a/bs:4/manual_time_median", "run_name": "Net/a/bs:4/manual_time", "run_type": "aggregate",
     "aggregate_name": "median", "repetitions": 3, "real_time": 20, "time_unit": "ms", "mem_alloc": 200}]})";
  const RunSet r = parse_runs(text, "reps.json");
  ASSERT_EQ(r.cases.size(), 1u);
  const CaseRuns& c = r.cases[0];
  EXPECT_EQ(c.label, "Net/a/bs:4");
  EXPECT_TRUE(c.id.is_net);
  EXPECT_EQ(c.id.batch, 4);
  ASSERT_EQ(c.runs.size(), 4u);  // three repetitions and the median; not the mean
  EXPECT_DOUBLE_EQ(*c.runs[0].latency_ms, 10);
  EXPECT_DOUBLE_EQ(*c.runs[1].latency_ms, 30);  // 30000 us
  EXPECT_DOUBLE_EQ(c.runs[0].counters.at("mem_alloc"), 100);
  EXPECT_DOUBLE_EQ(c.runs[0].counters.at("kernel_time"), 4.5);
  EXPECT_DOUBLE_EQ(c.runs[0].counters.at("gpu_busy"), 0.25);
  EXPECT_DOUBLE_EQ(c.runs[0].counters.at("flops"), 2e9);
  // Google Benchmark's own fields and non-numbers are not counters; NaN is left out.
  for (const char* field : {"cpu_time", "real_time", "iterations", "threads", "repetitions", "label"})
    EXPECT_EQ(c.runs[0].counters.count(field), 0u) << field;
  EXPECT_EQ(c.runs[1].counters.count("kernel_time"), 0u);
  EXPECT_FALSE(c.runs[0].median_aggregate);
  EXPECT_TRUE(c.runs[3].median_aggregate);
  EXPECT_EQ(c.runs[3].weight, 3);
  EXPECT_EQ(r.context.at("p4s_threads"), "1");
  // Merged as read_results does: the median aggregate stands for the file's repetitions.
  const ResultSet merged = merge_runs(r);
  ASSERT_EQ(merged.nets.size(), 1u);
  EXPECT_EQ(merged.nets[0].runs, 3);
  EXPECT_DOUBLE_EQ(*merged.nets[0].values.mem_alloc, 200);
}

TEST(ResultRuns, MatchesCasesWhateverGoogleBenchmarksSuffixes) {
  const std::string a = temp_file("a.json", R"({"benchmarks": [
    {"name": "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/manual_time", "real_time": 5, "time_unit": "ms"},
    {"name": "Net/r/bs:8/manual_time", "real_time": 5, "time_unit": "ms"}]})");
  const std::string b = temp_file("b.json", R"({"benchmarks": [
    {"name": "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/repeats:5/real_time", "real_time": 6, "time_unit": "ms"},
    {"name": "Net/r/bs:8/repeats:5", "real_time": 6, "time_unit": "ms"}]})");
  const RunSet r = read_runs({a, b});
  ASSERT_EQ(r.cases.size(), 2u);
  const CaseRuns* conv = find(r, "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->runs.size(), 2u);
  EXPECT_EQ(conv->runs[0].source, 0u);
  EXPECT_EQ(conv->runs[1].source, 1u);
  const CaseRuns* net = find(r, "Net/r/bs:8");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->runs.size(), 2u);
}

TEST(ResultRuns, CountsFailuresPerCase) {
  const RunSet r = parse_runs(R"({"benchmarks": [
    {"name": "Net/d/bs:512/manual_time", "error_occurred": true, "error_message": "out of memory: CPU allocator"},
    {"name": "Net/d/bs:512/manual_time", "error_occurred": true, "error_message": "CUDA out of memory. Tried"},
    {"name": "Net/d/bs:16/manual_time", "error_occurred": true, "error_message": "some other failure"},
    {"name": "Net/d/bs:16/manual_time", "error_occurred": true, "error_message": "another"}]})",
                              "errors.json");
  ASSERT_EQ(r.cases.size(), 2u);
  const CaseRuns* oom = find(r, "Net/d/bs:512");
  ASSERT_NE(oom, nullptr);
  EXPECT_EQ(oom->out_of_memory, 2);
  EXPECT_TRUE(oom->runs.empty());
  const CaseRuns* failed = find(r, "Net/d/bs:16");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->failed, 2);
  EXPECT_EQ(failed->failure, "some other failure");
  // read_results keeps what it did: the failed case is no data, and is counted.
  const ResultSet merged = merge_runs(r);
  EXPECT_EQ(merged.nets.size(), 1u);
  EXPECT_EQ(merged.failed_other, 2);
}

TEST(ResultRuns, PassesOverJsonThatHoldsNoResultsOnlyWhenAsked) {
  const std::string results = temp_file("r.json", R"({"benchmarks": [{"name": "Net/e/bs:2", "real_time": 1}]})");
  const std::string netspec = temp_file("netspec.json", R"({"netspec": 1, "name": "e"})");
  const std::string broken = temp_file("broken.json", R"({"benchmarks": [)");
  EXPECT_THROW(read_runs({results, netspec}), NotBenchmarkOutputError);
  const RunSet r = read_runs({netspec, results}, true);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_EQ(r.sources[0], results);
  EXPECT_EQ(r.cases.at(0).runs.at(0).source, 0u);  // indices follow the files actually read
  ASSERT_EQ(r.passed_over.size(), 1u);
  EXPECT_EQ(r.passed_over[0], netspec);
  EXPECT_THROW(read_runs({results, broken}, true), InputError);
}

TEST(ResultRuns, RefusesFieldsOfTheWrongTypeWithTheFileAndEntry) {
  try {
    parse_runs(R"({"benchmarks": [{"name": "Net/x/bs:2", "error_occurred": "yes"}]})", "typed.json");
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("typed.json: benchmarks[0]", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace p4s::results
