// Comparing result sets case by case, on small synthetic Google Benchmark files: matching,
// one-sided cases, out-of-memory entries, the threshold rules, geometric means, aggregates.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compare/compare.hpp"
#include "compare/compare_report.hpp"
#include "results_format/reader.hpp"

namespace p4s::compare {
namespace {

using nlohmann::json;

// Google Benchmark's JSON for a few cases: one iteration entry per repetition.
class Results {
 public:
  // `name` as Google Benchmark writes it; latency in ms; counters by name, one value per
  // repetition (same count as latency).
  Results& ran(const std::string& name, const std::vector<double>& latency_ms,
               const std::map<std::string, std::vector<double>>& counters = {}) {
    for (size_t i = 0; i < latency_ms.size(); ++i) {
      json e = {{"name", name},       {"run_name", name},
                {"run_type", "iteration"}, {"repetitions", latency_ms.size()},
                {"repetition_index", i},   {"real_time", latency_ms[i]},
                {"time_unit", "ms"}};
      for (const auto& [k, v] : counters) e[k] = v.at(i);
      list_.push_back(e);
    }
    return *this;
  }
  Results& oom(const std::string& name) {
    list_.push_back({{"name", name}, {"error_occurred", true}, {"error_message", "out of memory: CPU allocator"}});
    return *this;
  }
  Results& failed(const std::string& name, const std::string& message) {
    list_.push_back({{"name", name}, {"error_occurred", true}, {"error_message", message}});
    return *this;
  }
  Results& median_only(const std::string& name, double latency_ms, int repetitions) {
    list_.push_back({{"name", name + "_median"}, {"run_name", name}, {"run_type", "aggregate"},
                     {"aggregate_name", "median"}, {"repetitions", repetitions}, {"real_time", latency_ms},
                     {"time_unit", "ms"}});
    return *this;
  }
  results::RunSet runs(const std::string& source = "synthetic.json") const {
    return results::parse_runs(json{{"context", {{"p4s_threads", "1"}}}, {"benchmarks", list_}}.dump(), source);
  }

 private:
  json list_ = json::array();
};

const CaseComparison& find(const Comparison& c, const std::string& name) {
  for (const CaseComparison& k : c.cases)
    if (k.name == name) return k;
  throw std::runtime_error("no case " + name);
}

const MetricChange& metric(const CaseComparison& k, const std::string& name) {
  for (const MetricChange& m : k.metrics)
    if (m.metric == name) return m;
  throw std::runtime_error("no metric " + name + " in " + k.name);
}

CompareOptions with_threshold(double pct) {
  CompareOptions o;
  o.threshold_pct = pct;
  return o;
}

const std::vector<double> kBase = {100, 101, 99, 100.5, 99.5};
std::vector<double> scaled(const std::vector<double>& v, double f) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * f);
  return out;
}

TEST(Compare, MatchesCasesWhateverTheirSuffixes) {
  const results::RunSet old_runs = Results()
                              .ran("Net/resnet18/bs:8/manual_time", kBase)
                              .ran("Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/manual_time", kBase)
                              .runs();
  const results::RunSet new_runs = Results()
                              .ran("Net/resnet18/bs:8/repeats:5", kBase)
                              .ran("Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32/repeats:5/real_time", kBase)
                              .runs();
  const Comparison c = compare_runs(old_runs, new_runs, {});
  EXPECT_EQ(c.matched, 2);
  EXPECT_EQ(c.old_only, 0);
  EXPECT_EQ(c.new_only, 0);
  ASSERT_EQ(c.cases.size(), 2u);
  EXPECT_EQ(c.cases[0].name, "Net/resnet18/bs:8");  // networks first
  EXPECT_EQ(c.cases[1].name, "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32");
  const MetricChange& m = metric(c.cases[0], "latency_ms");
  EXPECT_DOUBLE_EQ(*m.ratio, 1.0);
  EXPECT_DOUBLE_EQ(m.test->p_value, 1.0);
  EXPECT_FALSE(m.significant);
}

TEST(Compare, ListsCasesOnOneSideWithoutCountingThemWorse) {
  const Comparison c = compare_runs(Results().ran("Net/a/bs:2", kBase).ran("Net/b/bs:2", kBase).oom("Net/b/bs:64").runs(),
                                    Results().ran("Net/a/bs:2", kBase).ran("Net/c/bs:2", kBase).runs(),
                                    with_threshold(0));
  EXPECT_EQ(c.matched, 1);
  EXPECT_EQ(c.old_only, 2);
  EXPECT_EQ(c.new_only, 1);
  EXPECT_FALSE(find(c, "Net/b/bs:2").new_side.has_value());
  EXPECT_EQ(find(c, "Net/b/bs:64").old_side->state, CaseState::kDidNotFit);
  EXPECT_FALSE(find(c, "Net/c/bs:2").old_side.has_value());
  EXPECT_EQ(c.worse_cases, 0);
  EXPECT_EQ(compare_exit_status(c), 0);
}

TEST(Compare, OutOfMemoryOnEitherSide) {
  const Comparison c = compare_runs(
      Results().ran("Net/a/bs:32", kBase).oom("Net/a/bs:64").oom("Net/a/bs:128").ran("Net/a/bs:16", kBase).runs(),
      Results().oom("Net/a/bs:32").ran("Net/a/bs:64", kBase).oom("Net/a/bs:128").failed("Net/a/bs:16", "bad kernel").runs(),
      with_threshold(50));
  const CaseComparison& lost = find(c, "Net/a/bs:32");
  EXPECT_EQ(lost.old_side->state, CaseState::kRan);
  EXPECT_EQ(lost.new_side->state, CaseState::kDidNotFit);
  EXPECT_TRUE(lost.stopped_running);
  EXPECT_TRUE(lost.worse);  // a case that fit and now does not, whatever the threshold
  EXPECT_TRUE(lost.metrics.empty());
  const CaseComparison& gained = find(c, "Net/a/bs:64");
  EXPECT_TRUE(gained.started_running);
  EXPECT_FALSE(gained.worse);
  const CaseComparison& never = find(c, "Net/a/bs:128");
  EXPECT_FALSE(never.stopped_running || never.started_running || never.worse);
  const CaseComparison& broken = find(c, "Net/a/bs:16");
  EXPECT_EQ(broken.new_side->state, CaseState::kFailed);
  EXPECT_EQ(broken.new_side->failure, "bad kernel");
  EXPECT_TRUE(broken.worse);
  EXPECT_EQ(c.worse_cases, 2);
  EXPECT_EQ(compare_exit_status(c), kExitWorse);
  // Without a threshold nothing is judged worse.
  const Comparison plain = compare_runs(Results().ran("Net/a/bs:32", kBase).runs(), Results().oom("Net/a/bs:32").runs(), {});
  EXPECT_TRUE(plain.cases[0].stopped_running);
  EXPECT_FALSE(plain.cases[0].worse);
  EXPECT_EQ(compare_exit_status(plain), 0);
}

TEST(Compare, ThresholdNeedsASignificantChangeWhereItCanBeTested) {
  // +10% latency in every repetition: complete separation, exact p = 2/252.
  const results::RunSet old_runs = Results().ran("Net/a/bs:8", kBase, {{"mem_alloc", {1e9, 1e9, 1e9, 1e9, 1e9}},
                                                              {"kernels", {10, 10, 10, 10, 10}}}).runs();
  const results::RunSet new_runs = Results().ran("Net/a/bs:8", scaled(kBase, 1.1), {{"mem_alloc", {1e9, 1e9, 1e9, 1e9, 1e9}},
                                                                           {"kernels", {20, 20, 20, 20, 20}}}).runs();
  const Comparison five = compare_runs(old_runs, new_runs, with_threshold(5));
  const MetricChange& latency = metric(five.cases[0], "latency_ms");
  EXPECT_EQ(latency.evidence, Evidence::kTested);
  EXPECT_NEAR(latency.test->p_value, 2.0 / 252.0, 1e-12);
  EXPECT_TRUE(latency.significant);
  EXPECT_NEAR(latency.change_pct(), 10.0, 1e-9);
  EXPECT_TRUE(latency.worse);
  EXPECT_FALSE(metric(five.cases[0], "mem_alloc").worse);
  // kernels doubled, significantly, but it is no latency or memory metric.
  EXPECT_TRUE(metric(five.cases[0], "kernels").significant);
  EXPECT_FALSE(metric(five.cases[0], "kernels").gated);
  EXPECT_FALSE(metric(five.cases[0], "kernels").worse);
  EXPECT_EQ(compare_exit_status(five), kExitWorse);
  EXPECT_EQ(compare_exit_status(compare_runs(old_runs, new_runs, with_threshold(15))), 0);
  // Faster is never worse.
  EXPECT_EQ(compare_exit_status(compare_runs(new_runs, old_runs, with_threshold(0))), 0);

  // Medians 7% apart, but the repetitions overlap: not significant, so not worse.
  const Comparison noisy = compare_runs(Results().ran("Net/a/bs:8", {100, 90, 130, 95, 120}).runs(),
                                        Results().ran("Net/a/bs:8", {107, 92, 125, 98, 135}).runs(), with_threshold(5));
  const MetricChange& n = metric(noisy.cases[0], "latency_ms");
  EXPECT_NEAR(n.change_pct(), 7.0, 1e-9);
  EXPECT_FALSE(n.significant);
  EXPECT_FALSE(n.worse);
  EXPECT_EQ(noisy.worse_cases, 0);
}

TEST(Compare, ConstantMemoryThatGrewIsSignificantAndWorse) {
  const Comparison c = compare_runs(
      Results().ran("Net/a/bs:8", kBase, {{"mem_alloc", {100e6, 100e6, 100e6, 100e6, 100e6}}}).runs(),
      Results().ran("Net/a/bs:8", kBase, {{"mem_alloc", {110e6, 110e6, 110e6, 110e6, 110e6}}}).runs(),
      with_threshold(5));
  const MetricChange& m = metric(c.cases[0], "mem_alloc");
  EXPECT_EQ(m.test->method, UTestMethod::kAsymptotic);  // ties
  EXPECT_NEAR(m.test->p_value, 0.003976751709788652, 1e-12);
  EXPECT_TRUE(m.worse);
  EXPECT_FALSE(metric(c.cases[0], "latency_ms").worse);
}

TEST(Compare, WithoutRepetitionsThePlainChangeDecides) {
  // One run a side: no test; the threshold compares the plain change.
  const Comparison single = compare_runs(Results().ran("Net/a/bs:8", {100}).ran("Net/b/bs:8", {100}).runs(),
                                         Results().ran("Net/a/bs:8", {106}).ran("Net/b/bs:8", {104}).runs(),
                                         with_threshold(5));
  const MetricChange& a = metric(find(single, "Net/a/bs:8"), "latency_ms");
  EXPECT_EQ(a.evidence, Evidence::kSingle);
  EXPECT_FALSE(a.test.has_value());
  EXPECT_TRUE(a.worse);
  EXPECT_FALSE(metric(find(single, "Net/b/bs:8"), "latency_ms").worse);
  EXPECT_EQ(single.worse_cases, 1);
  // 2 against 5: tested (min p = 2/21 = 0.095 > 0.05): underpowered, so the plain change too.
  const Comparison few = compare_runs(Results().ran("Net/a/bs:8", {100, 101}).runs(),
                                      Results().ran("Net/a/bs:8", scaled(kBase, 1.2)).runs(), with_threshold(5));
  const MetricChange& f = metric(few.cases[0], "latency_ms");
  EXPECT_EQ(f.evidence, Evidence::kUnderpowered);
  ASSERT_TRUE(f.test.has_value());
  EXPECT_NEAR(f.test->p_value, 2.0 / 21.0, 1e-12);
  EXPECT_FALSE(f.significant);
  EXPECT_TRUE(f.worse);
  // 3 + 3 is underpowered at 0.05 but tested at 0.2.
  CompareOptions loose = with_threshold(5);
  loose.alpha = 0.2;
  const Comparison three = compare_runs(Results().ran("Net/a/bs:8", {100, 101, 99}).runs(),
                                        Results().ran("Net/a/bs:8", {110, 111, 109}).runs(), loose);
  EXPECT_EQ(metric(three.cases[0], "latency_ms").evidence, Evidence::kTested);
  EXPECT_TRUE(metric(three.cases[0], "latency_ms").worse);
}

TEST(Compare, MedianAggregatesAloneAreNotTested) {
  const Comparison c = compare_runs(Results().median_only("Net/a/bs:8/manual_time", 100, 5).runs(),
                                    Results().ran("Net/a/bs:8/manual_time", scaled(kBase, 1.5)).runs(), with_threshold(10));
  const CaseComparison& k = c.cases[0];
  EXPECT_TRUE(k.old_side->aggregates_only);
  EXPECT_EQ(k.old_side->runs, 5);
  const MetricChange& m = metric(k, "latency_ms");
  EXPECT_EQ(m.old_n, 0);
  EXPECT_EQ(m.old_runs, 5);
  EXPECT_EQ(m.new_n, 5);
  EXPECT_DOUBLE_EQ(m.old_value, 100);
  EXPECT_DOUBLE_EQ(m.new_value, 150);
  EXPECT_EQ(m.evidence, Evidence::kSingle);
  EXPECT_TRUE(m.worse);
}

TEST(Compare, GeometricMeanOfTheRatiosPerMetric) {
  // Latency ratios 2 and 0.5: geometric mean 1. mem_alloc ratios 1.21 and 1: 1.1.
  // mem_used: 0 -> 0 counts as 1; 0 -> 5 is left out.
  const Comparison c = compare_runs(
      Results()
          .ran("Net/a/bs:2", {10}, {{"mem_alloc", {100}}, {"mem_used", {0}}})
          .ran("Net/b/bs:2", {40}, {{"mem_alloc", {100}}, {"mem_used", {0}}})
          .ran("Net/c/bs:2", {10})
          .runs(),
      Results()
          .ran("Net/a/bs:2", {20}, {{"mem_alloc", {121}}, {"mem_used", {0}}})
          .ran("Net/b/bs:2", {20}, {{"mem_alloc", {100}}, {"mem_used", {5}}})
          .oom("Net/c/bs:2")
          .runs(),
      {});
  ASSERT_EQ(c.summaries.size(), 3u);
  EXPECT_EQ(c.summaries[0].metric, "latency_ms");
  EXPECT_NEAR(*c.summaries[0].geomean_ratio, 1.0, 1e-12);
  EXPECT_EQ(c.summaries[0].cases, 2);  // Net/c did not run on the new side
  EXPECT_EQ(c.summaries[1].metric, "mem_alloc");
  EXPECT_NEAR(*c.summaries[1].geomean_ratio, 1.1, 1e-12);
  EXPECT_EQ(c.summaries[2].metric, "mem_used");
  EXPECT_NEAR(*c.summaries[2].geomean_ratio, 1.0, 1e-12);
  EXPECT_EQ(c.summaries[2].cases, 1);
  EXPECT_EQ(c.summaries[2].left_out, 1);
  EXPECT_TRUE(std::isinf(metric(find(c, "Net/b/bs:2"), "mem_used").change_pct()));
}

TEST(Compare, CountsSignificantChangesByDirection) {
  const Comparison c = compare_runs(Results().ran("Net/a/bs:2", kBase).ran("Net/b/bs:2", kBase).ran("Net/c/bs:2", kBase).runs(),
                                    Results()
                                        .ran("Net/a/bs:2", scaled(kBase, 0.5))
                                        .ran("Net/b/bs:2", scaled(kBase, 0.6))
                                        .ran("Net/c/bs:2", scaled(kBase, 1.3))
                                        .runs(),
                                    {});
  ASSERT_EQ(c.summaries.size(), 1u);
  EXPECT_EQ(c.summaries[0].lower, 2);
  EXPECT_EQ(c.summaries[0].higher, 1);
  EXPECT_EQ(c.summaries[0].untested, 0);
}

TEST(Compare, MetricsOnBothSidesOnlyAndAsAsked) {
  const results::RunSet old_runs = Results().ran("Net/a/bs:2", {1, 2}, {{"mem_alloc", {5, 5}}, {"kernel_time", {0.5, 0.6}}}).runs();
  const results::RunSet new_runs = Results().ran("Net/a/bs:2", {1, 2}, {{"mem_alloc", {5, 5}}, {"mem_reserved", {8, 8}}}).runs();
  const Comparison all = compare_runs(old_runs, new_runs, {});
  ASSERT_EQ(all.cases[0].metrics.size(), 2u);
  EXPECT_EQ(all.cases[0].metrics[0].metric, "latency_ms");
  EXPECT_EQ(all.cases[0].metrics[1].metric, "mem_alloc");
  EXPECT_EQ(all.old_metrics, (std::set<std::string>{"latency_ms", "mem_alloc", "kernel_time"}));
  EXPECT_EQ(all.new_metrics, (std::set<std::string>{"latency_ms", "mem_alloc", "mem_reserved"}));
  CompareOptions only;
  only.metrics = {"mem_alloc"};
  const Comparison some = compare_runs(old_runs, new_runs, only);
  ASSERT_EQ(some.cases[0].metrics.size(), 1u);
  EXPECT_EQ(some.cases[0].metrics[0].metric, "mem_alloc");
}

TEST(Compare, MetricOrderAndKinds) {
  std::vector<std::string> names = {"kernels", "mem_used", "cuda_malloc_peak", "latency_ms", "gpu_busy", "mem_alloc",
                                    "mem_reserved"};
  std::sort(names.begin(), names.end(), metric_order);
  EXPECT_EQ(names, (std::vector<std::string>{"latency_ms", "mem_alloc", "mem_reserved", "mem_used", "cuda_malloc_peak",
                                             "gpu_busy", "kernels"}));
  EXPECT_TRUE(is_gated_metric("cuda_malloc_peak"));
  EXPECT_TRUE(is_gated_metric("latency_ms"));
  EXPECT_FALSE(is_gated_metric("kernel_time"));
  EXPECT_FALSE(is_gated_metric("flops"));
}

TEST(Compare, RefusesOptionsOutOfRange) {
  const results::RunSet r = Results().ran("Net/a/bs:2", {1}).runs();
  CompareOptions o;
  o.alpha = 1;
  EXPECT_THROW(compare_runs(r, r, o), std::invalid_argument);
  o.alpha = 0.05;
  o.threshold_pct = -1;
  EXPECT_THROW(compare_runs(r, r, o), std::invalid_argument);
}

}  // namespace
}  // namespace p4s::compare
