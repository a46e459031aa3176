// The comparison as text and as JSON: number formats, the marks and their notes, and JSON
// values that have no finite number.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "compare/compare.hpp"
#include "compare/compare_report.hpp"
#include "results_format/reader.hpp"

namespace p4s::compare {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CompareReport, FormatsChangesAndValues) {
  EXPECT_EQ(format_change(6.1616), "+6.2%");
  EXPECT_EQ(format_change(-41.04), "-41.0%");
  EXPECT_EQ(format_change(0), "+0.0%");
  EXPECT_EQ(format_change(std::numeric_limits<double>::infinity()), "+inf%");
  EXPECT_EQ(format_value("latency_ms", 699.02), "699.0 ms");
  EXPECT_EQ(format_value("latency_ms", 0.012345), "0.01235 ms");
  EXPECT_EQ(format_value("latency_ms", 46290.4), "46290 ms");
  EXPECT_EQ(format_value("mem_alloc", 889566310), "848.4 MiB");
  EXPECT_EQ(format_value("mem_used", 2630667469), "2.45 GiB");
  EXPECT_EQ(format_value("cuda_malloc_peak", 512), "512 B");
  EXPECT_EQ(format_value("kernels", 1234), "1234");
  EXPECT_EQ(format_value("gpu_busy", 0.8765), "0.8765");
}

results::RunSet runs(const std::string& benchmarks) { return results::parse_runs(R"({"benchmarks": [)" + benchmarks + "]}", "r.json"); }

std::string reps(const std::string& name, std::initializer_list<double> ms) {
  std::string s;
  for (double v : ms)
    s += std::string(s.empty() ? "" : ", ") + R"({"name": ")" + name + R"(", "real_time": )" + std::to_string(v) +
         R"(, "time_unit": "ms", "mem_used": 0})";
  return s;
}

TEST(CompareReport, SaysWhatCouldNotBeTestedAndWhy) {
  // 3 + 3 repetitions: tested, but p cannot go below 0.1; a case with one run; a case whose
  // old side holds only a median aggregate.
  const results::RunSet old_runs = runs(reps("Net/a/bs:2", {10, 11, 12}) + ", " + reps("Net/b/bs:2", {10}) + ", " +
                               R"({"name": "Net/c/bs:2_median", "run_name": "Net/c/bs:2", "run_type": "aggregate",
                                   "aggregate_name": "median", "repetitions": 5, "real_time": 10, "time_unit": "ms"})");
  const results::RunSet new_runs = runs(reps("Net/a/bs:2", {20, 21, 22}) + ", " + reps("Net/b/bs:2", {20}) + ", " +
                               reps("Net/c/bs:2", {10, 10, 10, 10, 10}));
  CompareOptions o;
  o.threshold_pct = 5;
  const Comparison c = compare_runs(old_runs, new_runs, o);
  const std::string table = comparison_table(c);
  EXPECT_TRUE(contains(table, "0.1000  !~")) << table;
  EXPECT_TRUE(contains(table, "-  no test: 3 comparisons have fewer than 2 repetitions on a side")) << table;
  EXPECT_TRUE(contains(table, "~  cannot be significant: 2 comparisons have too few repetitions to reach p < 0.05 "
                              "(with 3 + 3 the smallest p is 0.1)"))
      << table;
  EXPECT_TRUE(contains(table, "1 cases have only median aggregates on a side")) << table;
  EXPECT_TRUE(contains(table, "by the plain change of the medians where marked - or ~")) << table;
  EXPECT_EQ(compare_exit_status(c), kExitWorse);
}

TEST(CompareReport, DeviceStateThatDiffersHasItsOwnHeading) {
  const results::RunSet a = runs(reps("Net/a/bs:2", {10, 11, 12}));
  Comparison c = compare_runs(a, a, CompareOptions{});
  c.old_context = {{"p4s_libtorch", "1.13.0"}, {"p4s_state_end_cpu_mhz", "2400"}, {"date", "x"}};
  c.new_context = {{"p4s_libtorch", "2.5.1"}, {"p4s_state_end_cpu_mhz", "1200"}, {"date", "y"}};
  const std::string table = comparison_table(c);
  EXPECT_TRUE(contains(table, "context that differs:\n  p4s_libtorch  1.13.0  ->  2.5.1\n")) << table;
  EXPECT_TRUE(contains(table, "device state that differs:\n  p4s_state_end_cpu_mhz  2400  ->  1200\n")) << table;
  EXPECT_FALSE(contains(table, "date")) << table;
}

TEST(CompareReport, JsonHasNoNonFiniteNumbers) {
  // mem_used 0 -> 5: the ratio is infinite; JSON says null.
  const Comparison c = compare_runs(runs(R"({"name": "Net/a/bs:2", "real_time": 1, "mem_used": 0})"),
                                    runs(R"({"name": "Net/a/bs:2", "real_time": 1, "mem_used": 5})"), {});
  const json j = comparison_json(c);
  const json& m = j.at("cases").at(0).at("metrics").at(1);
  EXPECT_EQ(m.at("metric"), "mem_used");
  EXPECT_TRUE(m.at("ratio").is_null());
  EXPECT_TRUE(m.at("change_pct").is_null());
  EXPECT_TRUE(m.at("p_value").is_null());
  EXPECT_EQ(m.at("evidence"), "single");
  EXPECT_EQ(j.at("summary").at("metrics").at(1).at("left_out"), 1);
  EXPECT_TRUE(j.at("summary").at("metrics").at(1).at("geomean_ratio").is_null());
  EXPECT_TRUE(j.at("threshold_pct").is_null());
  EXPECT_EQ(j.at("exit_status"), 0);
  // It round-trips through text: no NaN or Infinity tokens.
  EXPECT_EQ(json::parse(j.dump()), j);
}

}  // namespace
}  // namespace p4s::compare
