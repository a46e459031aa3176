// `p4s compare` as users run it: the real binary on result files and folders, its table, its
// JSON, and its exit statuses 0 (compared), 3 (worse than --threshold) and 2 (bad input).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "tests/cli/run_p4s.hpp"
#include "tests/compare/synthetic_sweep.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s {
namespace {

using nlohmann::json;
using test::Outcome;
using test::temp_path;

using test::p4s;

// Google Benchmark iteration entries, one per repetition.
std::string entries(const std::string& name, const std::vector<double>& latency_ms, const std::string& counters) {
  std::string s;
  for (size_t i = 0; i < latency_ms.size(); ++i) {
    std::ostringstream e;
    e << R"({"name": ")" << name << R"(", "run_name": ")" << name << R"(", "run_type": "iteration", )"
      << R"("repetitions": )" << latency_ms.size() << R"(, "repetition_index": )" << i << R"(, "iterations": 3, )"
      << R"("real_time": )" << latency_ms[i] << R"(, "cpu_time": 1, "time_unit": "ms")" << counters << "},\n";
    s += e.str();
  }
  return s;
}

std::string oom(const std::string& name) {
  return R"({"name": ")" + name + R"(", "error_occurred": true, "error_message": "out of memory: CPU allocator"},)" + "\n";
}

std::string results(const std::string& context, std::string body) {
  body.erase(body.find_last_of(','));  // the last entry's comma
  return R"({"context": {)" + context + R"(}, "benchmarks": [)" + "\n" + body + "]}\n";
}

// Old: five repetitions of each case. New: resnet18 at bs:8 10% slower, the conv 20% faster,
// bs:64 out of memory now, one case on each side only, and a bare NaN counter.
struct Pair {
  std::string old_path = temp_path("old.json"), new_path = temp_path("new.json");
  Pair() {
    write_file_atomically(
        old_path, results(R"("p4s_libtorch": "1.13.0", "date": "monday")",
                          entries("Net/resnet18_0/bs:8/manual_time", {100, 101, 99, 100.5, 99.5},
                                  R"(, "mem_alloc": 1073741824, "kernel_time": 40)") +
                              entries("Net/resnet18_0/bs:64/manual_time", {800, 801, 799, 800.5, 799.5},
                                      R"(, "mem_alloc": 6442450944)") +
                              oom("Net/resnet18_0/bs:128/manual_time") +
                              entries("Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/manual_time",
                                      {10, 10.1, 9.9, 10.05, 9.95}, R"(, "mem_alloc": 52428800)") +
                              entries("Net/old_only/bs:2/manual_time", {5}, "")));
    write_file_atomically(
        new_path, results(R"("p4s_libtorch": "2.1.0", "date": "tuesday")",
                          entries("Net/resnet18_0/bs:8/repeats:5", {110, 111.1, 108.9, 110.55, 109.45},
                                  R"(, "mem_alloc": 1073741824, "kernel_time": NaN)") +
                              oom("Net/resnet18_0/bs:64/repeats:5") + oom("Net/resnet18_0/bs:128/repeats:5") +
                              entries("Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/repeats:5",
                                      {8, 8.08, 7.92, 8.04, 7.96}, R"(, "mem_alloc": 52428800)") +
                              entries("Net/new_only/bs:2/repeats:5", {5}, "")));
  }
};

// The line of the table that starts with `start`.
std::string line_starting(const std::string& text, const std::string& start) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(start, 0) == 0) return line;
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CompareCli, PrintsTheTableAndExitsThreeWhenACaseIsWorse) {
  const Pair pair;
  const Outcome r = p4s({"compare", "--threshold", "5", pair.old_path, pair.new_path});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(line_starting(r.out, "old: "), "old: " + pair.old_path);
  EXPECT_TRUE(contains(r.out, "p4s_libtorch  1.13.0  ->  2.1.0")) << r.out;
  EXPECT_FALSE(contains(r.out, "monday")) << "the date always differs";
  const std::string slower = line_starting(r.out, "Net/resnet18_0/bs:8 ");
  EXPECT_TRUE(contains(slower, "latency_ms")) << slower;
  EXPECT_TRUE(contains(slower, "100.0 ms")) << slower;
  EXPECT_TRUE(contains(slower, "110.0 ms")) << slower;
  EXPECT_TRUE(contains(slower, "+10.0%")) << slower;
  EXPECT_TRUE(contains(slower, "5/5")) << slower;
  EXPECT_TRUE(contains(slower, "0.0079  *!")) << slower;
  const std::string faster = line_starting(r.out, "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32 ");
  EXPECT_TRUE(contains(faster, "-20.0%")) << faster;
  EXPECT_TRUE(contains(faster, "0.0079  *")) << faster;
  EXPECT_FALSE(contains(faster, "!")) << faster;
  const std::string lost = line_starting(r.out, "Net/resnet18_0/bs:64 ");
  EXPECT_TRUE(contains(lost, "ran")) << lost;
  EXPECT_TRUE(contains(lost, "did not fit")) << lost;
  EXPECT_TRUE(contains(lost, "! stopped running")) << lost;
  const std::string never = line_starting(r.out, "Net/resnet18_0/bs:128 ");
  EXPECT_TRUE(contains(never, "did not fit  did not fit")) << never;
  EXPECT_TRUE(contains(r.out, "Only in old (1):\n  Net/old_only/bs:2\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "Only in new (1):\n  Net/new_only/bs:2\n")) << r.out;
  // kernel_time is NaN on the new side: not compared, and said so.
  EXPECT_TRUE(contains(r.out, "Metrics only in old: kernel_time")) << r.out;
  EXPECT_TRUE(contains(r.out, "4 cases in both (2 ran on both sides), 1 only in old, 1 only in new.")) << r.out;
  // Geometric mean of latency: sqrt(1.1 * 0.8).
  EXPECT_TRUE(contains(line_starting(r.out, "  latency_ms"), "-6.2%")) << r.out;
  EXPECT_TRUE(contains(r.out, "2 cases worse than the threshold (exit status 3)")) << r.out;

  // Without a threshold the same comparison exits 0; with a loose one too, except the lost case.
  EXPECT_EQ(p4s({"compare", pair.old_path, pair.new_path}).status, 0);
  const Outcome loose = p4s({"compare", "--threshold=15", pair.old_path, pair.new_path});
  EXPECT_EQ(loose.status, 3);
  EXPECT_TRUE(contains(loose.out, "1 case worse than the threshold")) << loose.out;
  EXPECT_EQ(p4s({"compare", "--threshold", "15", "--metrics", "latency_ms", pair.new_path, pair.new_path}).status, 0);
}

TEST(CompareCli, JsonForScripts) {
  const Pair pair;
  const Outcome r = p4s({"compare", "--json", "--threshold", "5", "--alpha", "0.01", pair.old_path, pair.new_path});
  EXPECT_EQ(r.status, 3) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("schema_version"), 1);
  EXPECT_EQ(j.at("kind"), "p4s-compare");
  EXPECT_EQ(j.at("alpha"), 0.01);
  EXPECT_EQ(j.at("threshold_pct"), 5.0);
  EXPECT_EQ(j.at("exit_status"), 3);
  EXPECT_EQ(j.at("old").at("sources"), json::array({pair.old_path}));
  EXPECT_EQ(j.at("new").at("context").at("p4s_libtorch"), "2.1.0");
  const json& cases = j.at("cases");
  ASSERT_EQ(cases.size(), 6u);
  const json& first = cases.at(0);  // networks first, by name and batch
  EXPECT_EQ(first.at("name"), "Net/new_only/bs:2");
  EXPECT_EQ(first.at("in"), "new");
  EXPECT_TRUE(first.at("old").is_null());
  json slower;
  for (const json& c : cases)
    if (c.at("name") == "Net/resnet18_0/bs:8") slower = c;
  ASSERT_FALSE(slower.is_null());
  EXPECT_EQ(slower.at("in"), "both");
  EXPECT_EQ(slower.at("old").at("state"), "ran");
  EXPECT_EQ(slower.at("old").at("runs"), 5);
  EXPECT_TRUE(slower.at("worse"));
  const json& latency = slower.at("metrics").at(0);
  EXPECT_EQ(latency.at("metric"), "latency_ms");
  EXPECT_DOUBLE_EQ(latency.at("old").get<double>(), 100);
  EXPECT_DOUBLE_EQ(latency.at("new").get<double>(), 110);
  EXPECT_NEAR(latency.at("change_pct").get<double>(), 10, 1e-9);
  EXPECT_NEAR(latency.at("p_value").get<double>(), 2.0 / 252.0, 1e-12);
  EXPECT_EQ(latency.at("method"), "exact");
  EXPECT_EQ(latency.at("evidence"), "tested");
  EXPECT_TRUE(latency.at("significant"));  // 0.0079 < 0.01
  EXPECT_TRUE(latency.at("worse"));
  const json& memory = slower.at("metrics").at(1);
  EXPECT_EQ(memory.at("metric"), "mem_alloc");
  EXPECT_EQ(memory.at("p_value"), 1.0);
  EXPECT_FALSE(memory.at("worse"));
  const json& summary = j.at("summary");
  EXPECT_EQ(summary.at("matched"), 4);
  EXPECT_EQ(summary.at("old_only"), 1);
  EXPECT_EQ(summary.at("new_only"), 1);
  EXPECT_EQ(summary.at("worse_cases"), 2);
  EXPECT_EQ(summary.at("old_only_metrics"), json::array({"kernel_time"}));
  EXPECT_NEAR(summary.at("metrics").at(0).at("geomean_ratio").get<double>(), std::sqrt(1.1 * 0.8), 1e-12);
}

TEST(CompareCli, ComparesFolderAgainstFolder) {
  // Old: two files, one case each, and a NetSpec beside them and in a subfolder.
  // New: one file with both cases.
  const std::string old_dir = temp_path("old_dir"), new_dir = temp_path("new_dir");
  ASSERT_EQ(mkdir(old_dir.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((old_dir + "/netspecs").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(new_dir.c_str(), 0755), 0);
  write_file_atomically(old_dir + "/a.json", results("", entries("Net/a/bs:2/manual_time", {10, 11, 12, 10.5}, "")));
  write_file_atomically(old_dir + "/b.json", results("", entries("Net/b/bs:2/manual_time", {20, 21, 22, 20.5}, "")));
  write_file_atomically(old_dir + "/a_netspec.json", R"({"netspec": 1, "name": "a", "layers": []})");
  write_file_atomically(old_dir + "/netspecs/b.json", "not even JSON");
  write_file_atomically(old_dir + "/notes.txt", "not a result");
  write_file_atomically(new_dir + "/all.json", results("", entries("Net/a/bs:2/manual_time", {10, 11, 12, 10.5}, "") +
                                                               entries("Net/b/bs:2/manual_time", {40, 42, 44, 41}, "")));
  const Outcome r = p4s({"compare", "--json", "--threshold", "50", old_dir, new_dir});
  ASSERT_EQ(r.status, 3) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j.at("old").at("sources"), json::array({old_dir + "/a.json", old_dir + "/b.json"}));
  EXPECT_EQ(j.at("old").at("passed_over"), json::array({old_dir + "/a_netspec.json"}));
  EXPECT_EQ(j.at("summary").at("matched"), 2);
  EXPECT_EQ(j.at("summary").at("worse_cases"), 1);  // b doubled, 4 + 4 repetitions, p = 2/70
  const Outcome table = p4s({"compare", old_dir, new_dir});
  EXPECT_EQ(table.status, 0);
  EXPECT_TRUE(contains(table.out, "old: " + old_dir + " (2 files)")) << table.out;
  EXPECT_TRUE(contains(table.out, "passed over (no Google Benchmark output): " + old_dir + "/a_netspec.json"))
      << table.out;
}

TEST(CompareCli, RealTx2ResultsAgainstThemselves) {
  const std::string& tx2 = test::kTx2Results;
  const Outcome r = p4s({"compare", "--threshold", "0", tx2, tx2 + "/results.json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "933 cases in both (685 ran on both sides), 0 only in old, 0 only in new.")) << r.out;
  // One repetition per case: nothing is tested, and the table says so.
  EXPECT_TRUE(contains(r.out, "-  no test: 2740 comparisons have fewer than 2 repetitions on a side")) << r.out;
  EXPECT_TRUE(contains(line_starting(r.out, "Net/resnet18_0/bs:200 "), "did not fit  did not fit"));
}

TEST(CompareCli, SyntheticSweepsOfOneAndTwoThreads) {
  compare::testdata::SweepModel one, two;
  one.seed = 1;
  two.seed = 2;
  two.threads = 2;
  const std::string a = temp_path("threads1.json"), b = temp_path("threads2.json");
  write_file_atomically(a, compare::testdata::synthetic_sweep_json(one));
  write_file_atomically(b, compare::testdata::synthetic_sweep_json(two));
  const Outcome r = p4s({"compare", "--threshold", "5", a, b});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "p4s_threads  1  ->  2")) << r.out;
  EXPECT_TRUE(contains(line_starting(r.out, "Net/resnet18_0/bs:128 "), "*")) << r.out;
  // Backwards, the same pair is a slowdown that the threshold catches.
  EXPECT_EQ(p4s({"compare", "--threshold", "5", b, a}).status, 3);
}

void expect_bad_input(const std::vector<std::string>& args, const std::string& message_part) {
  std::vector<std::string> all = {"compare"};
  all.insert(all.end(), args.begin(), args.end());
  const Outcome r = p4s(all);
  EXPECT_EQ(r.status, 2) << message_part;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("p4s compare: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(contains(r.err, message_part)) << "expected \"" << message_part << "\" in: " << r.err;
}

TEST(CompareCli, BadInputIsOneLineAndExitStatusTwo) {
  const Pair pair;
  const std::string missing = temp_path("missing.json");
  expect_bad_input({missing, pair.new_path}, missing + ": cannot open");
  const std::string netspec = temp_path("netspec.json");
  write_file_atomically(netspec, R"({"netspec": 1})");
  expect_bad_input({pair.old_path, netspec}, netspec + ": not Google Benchmark output");
  const std::string broken = temp_path("broken.json");
  write_file_atomically(broken, R"({"benchmarks": [)");
  expect_bad_input({broken, pair.new_path}, broken + ": not valid JSON");
  const std::string empty = temp_path("empty.json");
  write_file_atomically(empty, "");
  expect_bad_input({empty, pair.new_path}, empty + ": the file is empty");
  const std::string empty_dir = temp_path("empty_dir");
  ASSERT_EQ(mkdir(empty_dir.c_str(), 0755), 0);
  expect_bad_input({empty_dir, pair.new_path}, empty_dir + ": the folder holds no *.json result files");
  const std::string specs_dir = temp_path("specs_dir");
  ASSERT_EQ(mkdir(specs_dir.c_str(), 0755), 0);
  write_file_atomically(specs_dir + "/x.json", R"({"netspec": 1})");
  expect_bad_input({pair.old_path, specs_dir}, specs_dir + ": none of the folder's 1 *.json files");
  expect_bad_input({pair.old_path}, "give two result files or folders");
  expect_bad_input({pair.old_path, pair.new_path, pair.new_path}, "unexpected argument");
  expect_bad_input({"--alpha", "0", pair.old_path, pair.new_path}, "--alpha 0: must be a number between 0 and 1");
  expect_bad_input({"--alpha=1", pair.old_path, pair.new_path}, "--alpha 1:");
  expect_bad_input({"--alpha", "x", pair.old_path, pair.new_path}, "--alpha x:");
  expect_bad_input({"--threshold", "-1", pair.old_path, pair.new_path}, "--threshold -1: must be a percentage >= 0");
  expect_bad_input({"--threshold", "5%", pair.old_path, pair.new_path}, "--threshold 5%:");
  expect_bad_input({"--threshold", "nan", pair.old_path, pair.new_path}, "--threshold nan:");
  expect_bad_input({pair.old_path, pair.new_path, "--threshold"}, "--threshold: missing value");
  expect_bad_input({"--threshold", "1", "--threshold", "2", pair.old_path, pair.new_path}, "given twice");
  expect_bad_input({"--metrics", "latency_ms,,mem_alloc", pair.old_path, pair.new_path}, "an empty metric name");
  expect_bad_input({"--metrics", "lat", pair.old_path, pair.new_path}, "--metrics: no case has a metric \"lat\"");
  expect_bad_input({"--json=yes", pair.old_path, pair.new_path}, "--json takes no value");
  expect_bad_input({"--fast", pair.old_path, pair.new_path}, "unknown option \"--fast\"");
}

TEST(CompareCli, HelpAndTheCommandTable) {
  const Outcome help = p4s({"compare", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "usage: p4s compare [options] OLD NEW")) << help.out;
  EXPECT_TRUE(contains(help.out, "--threshold PCT")) << help.out;
  const Outcome top = p4s({"--help"});
  EXPECT_TRUE(contains(top.out, "  compare ")) << top.out;
}

}  // namespace
}  // namespace p4s
