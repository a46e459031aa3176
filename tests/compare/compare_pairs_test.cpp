// Pairs of whole sweeps: two runs of the same sweep must show no change, and two runs that
// differ for a known reason must show that change. The same checks run on synthetic pairs
// (tests/compare/synthetic_sweep.hpp: 5 repetitions, 2% latency noise) and on every real pair kept
// in tests/data/compare/ (see the README there for the layout and expect.json).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "compare/compare.hpp"
#include "compare/compare_report.hpp"
#include "results_format/reader.hpp"
#include "tests/compare/synthetic_sweep.hpp"

namespace p4s::compare {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testdata::SweepModel;

// What a pair must show; read from a pair's expect.json, with these defaults.
struct Expectation {
  std::string kind;  // "same_sweep" or "known_change"
  double alpha = 0.05;
  // same_sweep: no case worse than threshold_pct (which also means no case stopped running);
  // the geometric mean of every latency and memory metric within +-max_geomean_pct; at most
  // max_significant_share of the latency comparisons significant (at alpha some are, by chance).
  double threshold_pct = 10;
  double max_geomean_pct = 3;
  double max_significant_share = 0.15;
  // known_change: with a `direction` ("lower" or "higher"), `metric` significantly changed
  // that way in at least min_share of the cases that ran on both sides, and its geometric mean
  // changed by at least min_geomean_pct that way; and at least min_stopped_running cases that
  // ran on the old side and do not run on the new (a smaller memory limit, ...).
  std::string metric = "latency_ms";
  std::string direction;
  double min_share = 0.5;
  double min_geomean_pct = 10;
  int min_stopped_running = 0;
  std::vector<std::string> metrics;  // compare only these (p4s compare --metrics); empty: all
};

Expectation expectation_from(const json& j) {
  Expectation e;
  e.kind = j.at("kind").get<std::string>();
  e.alpha = j.value("alpha", e.alpha);
  e.threshold_pct = j.value("threshold_pct", e.threshold_pct);
  e.max_geomean_pct = j.value("max_geomean_pct", e.max_geomean_pct);
  e.max_significant_share = j.value("max_significant_share", e.max_significant_share);
  e.metric = j.value("metric", e.metric);
  e.direction = j.value("direction", e.direction);
  e.min_share = j.value("min_share", e.min_share);
  e.min_geomean_pct = j.value("min_geomean_pct", e.min_geomean_pct);
  e.metrics = j.value("metrics", e.metrics);
  e.min_stopped_running = j.value("min_stopped_running", e.min_stopped_running);
  return e;
}

Comparison compare_for(const results::RunSet& old_runs, const results::RunSet& new_runs, const Expectation& e) {
  CompareOptions o;
  o.alpha = e.alpha;
  o.metrics = e.metrics;
  if (e.kind == "same_sweep") o.threshold_pct = e.threshold_pct;
  return compare_runs(old_runs, new_runs, o);
}

// What the comparison shows against what was expected; empty when it holds.
std::vector<std::string> violations(const Comparison& c, const Expectation& e) {
  std::vector<std::string> out;
  if (c.matched == 0) return {"no case is in both"};
  if (e.kind == "same_sweep") {
    for (const CaseComparison& k : c.cases)
      if (k.worse) out.push_back(k.name + " is worse than " + std::to_string(e.threshold_pct) + "%");
    for (const MetricSummary& s : c.summaries) {
      if (!is_gated_metric(s.metric) || !s.geomean_ratio) continue;
      const double pct = (*s.geomean_ratio - 1) * 100;
      if (std::fabs(pct) > e.max_geomean_pct)
        out.push_back(s.metric + " geometric mean changed by " + format_change(pct));
      if (s.metric == "latency_ms") {
        const int compared = s.cases + s.left_out;
        const double share = double(s.lower + s.higher) / compared;
        if (share > e.max_significant_share)
          out.push_back("latency_ms significant in " + std::to_string(s.lower + s.higher) + " of " +
                        std::to_string(compared) + " cases");
      }
    }
  } else if (e.kind == "known_change") {
    int stopped = 0;
    for (const CaseComparison& k : c.cases) stopped += k.stopped_running;
    if (stopped < e.min_stopped_running)
      out.push_back("only " + std::to_string(stopped) + " cases stopped running");
    if (e.direction.empty()) {
      if (e.min_stopped_running == 0) out.push_back("a known change needs a direction or min_stopped_running");
      return out;
    }
    const MetricSummary* s = nullptr;
    for (const MetricSummary& m : c.summaries)
      if (m.metric == e.metric) s = &m;
    if (!s || !s->geomean_ratio) return {e.metric + " is not compared in any case"};
    const bool lower = e.direction == "lower";
    if (!lower && e.direction != "higher") return {"direction must be lower or higher, not " + e.direction};
    const int compared = s->cases + s->left_out;
    const int found = lower ? s->lower : s->higher;
    if (found < e.min_share * compared)
      out.push_back(e.metric + " significantly " + e.direction + " in only " + std::to_string(found) + " of " +
                    std::to_string(compared) + " cases");
    const double pct = (*s->geomean_ratio - 1) * 100;
    if ((lower ? -pct : pct) < e.min_geomean_pct)
      out.push_back(e.metric + " geometric mean changed by only " + format_change(pct));
  } else {
    out.push_back("unknown kind \"" + e.kind + "\"");
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += "\n  " + x;
  return s;
}

// A synthetic run written to a file and read back, as a real one would be.
results::RunSet synthetic(const SweepModel& m, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/p4s_pairs_" + std::to_string(getpid()) + "_" + name + ".json";
  write_file_atomically(path, testdata::synthetic_sweep_json(m));
  return results::read_runs({path});
}

Expectation same_sweep() {
  Expectation e;
  e.kind = "same_sweep";
  return e;
}

Expectation known_change(const std::string& metric, const std::string& direction, double min_share,
                         double min_geomean_pct) {
  Expectation e;
  e.kind = "known_change";
  e.metric = metric;
  e.direction = direction;
  e.min_share = min_share;
  e.min_geomean_pct = min_geomean_pct;
  return e;
}

TEST(ComparePairs, TheSameSweepTwiceShowsNoChange) {
  SweepModel a, b;
  a.seed = 11;
  b.seed = 12;  // the same sweep, other noise
  const results::RunSet old_runs = synthetic(a, "same_a"), new_runs = synthetic(b, "same_b");
  const Comparison c = compare_for(old_runs, new_runs, same_sweep());
  EXPECT_EQ(c.old_only + c.new_only, 0);
  EXPECT_GT(c.matched, 40);
  const std::vector<std::string> v = violations(c, same_sweep());
  EXPECT_TRUE(v.empty()) << join(v);
  EXPECT_EQ(compare_exit_status(c), 0);
  // The out-of-memory cases are matched as such.
  int neither_fit = 0;
  for (const CaseComparison& k : c.cases)
    neither_fit += k.old_side->state == CaseState::kDidNotFit && k.new_side->state == CaseState::kDidNotFit;
  EXPECT_EQ(neither_fit, 4);
}

TEST(ComparePairs, MoreThreadsMakeLargeCasesFaster) {
  SweepModel one, two;
  one.seed = 21;
  two.seed = 22;
  two.threads = 2;
  const results::RunSet old_runs = synthetic(one, "threads1"), new_runs = synthetic(two, "threads2");
  const Expectation faster = known_change("latency_ms", "lower", 0.6, 20);
  const Comparison c = compare_for(old_runs, new_runs, faster);
  const std::vector<std::string> v = violations(c, faster);
  EXPECT_TRUE(v.empty()) << join(v);
  // The checks can fail: this pair is no "same sweep", and is not slower.
  EXPECT_FALSE(violations(compare_for(old_runs, new_runs, same_sweep()), same_sweep()).empty());
  EXPECT_FALSE(violations(c, known_change("latency_ms", "higher", 0.6, 20)).empty());
  // Memory did not change with the threads.
  for (const MetricSummary& s : c.summaries) {
    if (s.metric == "mem_alloc") {
      EXPECT_NEAR(*s.geomean_ratio, 1.0, 1e-12);
    }
  }
  // The largest case sped up by about its modelled 1.9x, found at p = 2/252.
  for (const CaseComparison& k : c.cases)
    if (k.name == "Net/resnet18_0/bs:128") {
      EXPECT_NEAR(k.metrics.at(0).change_pct(), -48, 3);
      EXPECT_NEAR(k.metrics.at(0).test->p_value, 2.0 / 252.0, 1e-12);
    }
}

TEST(ComparePairs, AGrownAllocationIsFoundAndFailsTheThreshold) {
  SweepModel before, after;
  before.seed = 31;
  after.seed = 32;
  after.mem_alloc_extra_bytes = 64.0 * 1024 * 1024;  // e.g. a workspace the new stack keeps
  const results::RunSet old_runs = synthetic(before, "alloc_a"), new_runs = synthetic(after, "alloc_b");
  const Expectation grew = known_change("mem_alloc", "higher", 0.99, 1);
  const Comparison c = compare_for(old_runs, new_runs, grew);
  const std::vector<std::string> v = violations(c, grew);
  EXPECT_TRUE(v.empty()) << join(v);
  CompareOptions guard;
  guard.threshold_pct = 5;
  const Comparison guarded = compare_runs(old_runs, new_runs, guard);
  EXPECT_EQ(compare_exit_status(guarded), kExitWorse);
  for (const CaseComparison& k : guarded.cases) {
    if (k.name == "Net/resnet18_0/bs:128") {
      EXPECT_FALSE(k.worse) << "7.5 GiB + 64 MiB is under 5% more";
    }
    if (k.name == "Linear/in:512/out:1000/bs:1") {
      EXPECT_TRUE(k.worse);
    }
  }
}

TEST(ComparePairs, ASmallerMemoryLimitStopsTheLargestCases) {
  SweepModel large, small;
  large.seed = 41;
  small.seed = 42;
  small.mem_limit_bytes = 4.0 * 1024 * 1024 * 1024;  // e.g. --p4s_mem_limit=4G
  const results::RunSet old_runs = synthetic(large, "limit_a"), new_runs = synthetic(small, "limit_b");
  Expectation stopped;
  stopped.kind = "known_change";
  stopped.min_stopped_running = 2;  // resnet18 and squeezenet at bs:128
  const Comparison c = compare_for(old_runs, new_runs, stopped);
  const std::vector<std::string> v = violations(c, stopped);
  EXPECT_TRUE(v.empty()) << join(v);
  stopped.min_stopped_running = 3;
  EXPECT_FALSE(violations(c, stopped).empty());
  // As a "same sweep", the pair fails only for the two lost cases: what ran on both is unchanged.
  const std::vector<std::string> lost = violations(compare_for(old_runs, new_runs, same_sweep()), same_sweep());
  ASSERT_EQ(lost.size(), 2u) << join(lost);
  EXPECT_EQ(lost[0].rfind("Net/resnet18_0/bs:128 ", 0), 0u) << lost[0];
  EXPECT_EQ(lost[1].rfind("Net/squeezenet_0/bs:128 ", 0), 0u) << lost[1];
  CompareOptions guard;
  guard.threshold_pct = 10;
  const Comparison guarded = compare_runs(old_runs, new_runs, guard);
  EXPECT_EQ(guarded.worse_cases, 2);
  EXPECT_EQ(compare_exit_status(guarded), kExitWorse);
}

// A pair folder as tests/data/compare/README.md describes it: old.json or old/, new.json or
// new/, and expect.json. Returns what the comparison shows against what was expected.
std::vector<std::string> check_pair_folder(const fs::path& pair) {
  if (!fs::exists(pair / "expect.json")) return {"no expect.json"};
  auto side = [&](const std::string& name) {
    const fs::path folder = pair / name;
    std::vector<std::string> files;
    if (fs::is_directory(folder)) {
      for (const fs::directory_entry& f : fs::directory_iterator(folder))
        if (f.path().extension() == ".json") files.push_back(f.path().string());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back((pair / (name + ".json")).string());
    }
    return results::read_runs(files, fs::is_directory(folder));
  };
  const Expectation e = expectation_from(json::parse(read_file((pair / "expect.json").string())));
  return violations(compare_for(side("old"), side("new"), e), e);
}

TEST(ComparePairs, PairFoldersAreReadAsTheReadmeSays) {
  const fs::path pair = ::testing::TempDir() + "/p4s_pairs_" + std::to_string(getpid()) + "_folder";
  fs::remove_all(pair);
  fs::create_directories(pair / "old");
  SweepModel one, two;
  one.seed = 51;
  two.seed = 52;
  two.threads = 2;
  // The old side split over two files of a folder, the new side one file.
  write_file_atomically((pair / "old" / "run1.json").string(), testdata::synthetic_sweep_json(one));
  one.seed = 53;
  write_file_atomically((pair / "old" / "run2.json").string(), testdata::synthetic_sweep_json(one));
  write_file_atomically((pair / "new.json").string(), testdata::synthetic_sweep_json(two));
  EXPECT_EQ(check_pair_folder(pair), std::vector<std::string>{"no expect.json"});
  write_file_atomically((pair / "expect.json").string(),
                        R"({"kind": "known_change", "metric": "latency_ms", "direction": "lower",
                            "min_share": 0.6, "min_geomean_pct": 20, "reason": "p4s_threads 1 -> 2"})");
  std::vector<std::string> v = check_pair_folder(pair);
  EXPECT_TRUE(v.empty()) << join(v);
  write_file_atomically((pair / "expect.json").string(), R"({"kind": "same_sweep"})");
  v = check_pair_folder(pair);
  EXPECT_FALSE(v.empty());
}

TEST(ComparePairs, RealPairsInTestData) {
  const fs::path root = fs::path(P4S_SOURCE_DIR) / "tests" / "data" / "compare";
  int pairs = 0;
  if (fs::is_directory(root)) {
    for (const fs::directory_entry& d : fs::directory_iterator(root)) {
      if (!d.is_directory()) continue;
      const std::vector<std::string> v = check_pair_folder(d.path());
      EXPECT_TRUE(v.empty()) << d.path().string() << join(v);
      ++pairs;
    }
  }
  if (pairs == 0) GTEST_SKIP() << "no real pairs in " << root.string() << " yet";
}

}  // namespace
}  // namespace p4s::compare
