#include "sweep_guard/prior_results.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/input_error.hpp"

namespace p4s::sweep_guard {
namespace {

TEST(CaseNameOfRun, DropsGoogleBenchmarksPartsOnly) {
  EXPECT_EQ(case_name_of_run("Net/resnet18/bs:8/manual_time"), "Net/resnet18/bs:8");
  EXPECT_EQ(case_name_of_run("Net/resnet18/bs:8/opt:adam/manual_time/repeats:3"), "Net/resnet18/bs:8/opt:adam");
  EXPECT_EQ(case_name_of_run("Conv2d/cin:3/cout:8/k:3/s:1/g:1/hw:8/bs:1/min_time:0.100/real_time"),
            "Conv2d/cin:3/cout:8/k:3/s:1/g:1/hw:8/bs:1");
  EXPECT_EQ(case_name_of_run("Net/x/bs:2/threads:1/iterations:4"), "Net/x/bs:2");
  EXPECT_EQ(case_name_of_run("Net/x/bs:2"), "Net/x/bs:2");
}

TEST(PriorResults, HoldsEveryReportedCaseAndKeepsEntries) {
  const std::string text = R"({
    "context": {"date": "d", "p4s_threads": "1", "num_cpus": 2},
    "benchmarks": [
      {"name": "Net/a/bs:2/manual_time", "run_name": "Net/a/bs:2/manual_time", "real_time": 3.5},
      {"name": "Net/a/bs:2/manual_time_median", "run_name": "Net/a/bs:2/manual_time", "run_type": "aggregate"},
      {"name": "Net/a/bs:4/manual_time", "error_occurred": true, "error_message": "out of memory: x"},
      {"name": "Net/b/bs:2/manual_time", "mem_alloc": nan}
    ]})";
  const PriorResults p = parse_prior_results(text, "r.json");
  EXPECT_EQ(p.done, (std::set<std::string>{"Net/a/bs:2", "Net/a/bs:4", "Net/b/bs:2"}));
  ASSERT_EQ(p.entries.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(p.entries[0])["real_time"], 3.5);
  EXPECT_EQ(p.context.at("p4s_threads"), "1");
  EXPECT_EQ(p.context.at("num_cpus"), "2");
}

TEST(PriorResults, RefusesWhatIsNoResultsFile) {
  const auto message = [](const std::string& text) {
    try {
      parse_prior_results(text, "r.json");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("{"), "r.json: not valid JSON: not a results file to resume");
  EXPECT_EQ(message("{\"context\": {}}"), "r.json: field \"benchmarks\": missing or not a list: not a results file to resume");
  EXPECT_EQ(message("{\"benchmarks\": [{\"x\": 1}]}"),
            "r.json: field \"benchmarks[0]\": has no \"name\": not a results file to resume");
  EXPECT_EQ(message("{\"benchmarks\": [3]}"), "r.json: field \"benchmarks[0]\": not an object");
  EXPECT_EQ(message("{\"context\": 1, \"benchmarks\": []}"), "r.json: field \"context\": not an object");
}

TEST(ContextDifference, NamesTheFirstKeyThatMatters) {
  const std::map<std::string, std::string> file = {{"p4s_libtorch", "1.13.0"}, {"p4s_threads", "1"},
                                                   {"date", "a"}, {"host_name", "vm"},
                                                   {"p4s_state_start_cpu_mhz", "2400"}, {"num_cpus", "2"}};
  std::map<std::string, std::string> now = file;
  now["date"] = "b";
  now["p4s_state_start_cpu_mhz"] = "1200";
  now[kResumesKey] = "3";
  now["num_cpus"] = "4";  // Google Benchmark's own keys other than the host are not compared
  EXPECT_EQ(context_difference(file, now), std::nullopt);
  now["p4s_libtorch"] = "2.5.1";
  EXPECT_EQ(context_difference(file, now), "p4s_libtorch: \"1.13.0\" in the file, \"2.5.1\" now");
  now = file;
  now.erase("p4s_threads");
  EXPECT_EQ(context_difference(file, now), "p4s_threads: \"1\" in the file, (none) now");
  now = file;
  now["host_name"] = "other";
  EXPECT_EQ(context_difference(file, now), "host_name: \"vm\" in the file, \"other\" now");
}

}  // namespace
}  // namespace p4s::sweep_guard
