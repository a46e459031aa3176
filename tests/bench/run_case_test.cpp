// Running a case inside Google Benchmark, with a fake meter and timer where the logic is
// under test and the real ones where the memory limit is: warm-up, one step per measured
// iteration, manual time, counters as plain values, and every failure as an error entry.
#include <gtest/gtest.h>

#include <benchmark/benchmark.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/layer_cases.hpp"
#include "bench/mem_alloc.hpp"
#include "bench/memory_meter.hpp"
#include "bench/registration.hpp"
#include "bench/run_case.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::bench {
namespace {

// A LibTorch error with the given message and a source location, as TORCH_CHECK raises them
// (the constructor from a message and a backtrace string is gone from LibTorch 2.x).
c10::Error torch_error(const std::string& message) {
  return c10::Error(c10::SourceLocation{__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, message);
}

class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override { runs_.insert(runs_.end(), runs.begin(), runs.end()); }
  std::vector<Run> runs_;
};

std::vector<benchmark::BenchmarkReporter::Run> run_filter(const std::string& filter) {
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, filter);
  return reporter.runs_;
}

class FakeMeter final : public MemoryMeter {
 public:
  void before_build() override { calls += "b"; }
  void before_measure() override { calls += "m"; }
  void after_step() override { calls += "s"; }
  MemoryCounters after_measure() override {
    calls += "e";
    MemoryCounters c;
    c.mem_alloc = 1234567;
    c.mem_used = 7654321;
    return c;
  }
  std::string calls;
};

class FixedTimer final : public StepTimer {
 public:
  void start() override { ++starts; }
  double stop_seconds() override { return 0.002; }
  int starts = 0;
};

struct Counts {
  int built = 0, steps = 0, destroyed = 0;
};

// A case whose step counts its calls and throws `fail` on step number `fail_at` (1-based).
PreparedCase counting_case(std::shared_ptr<Counts> counts, int fail_at = 0,
                           std::function<void()> fail = nullptr) {
  PreparedCase p;
  p.params = 42;
  p.flops = int64_t{3} << 40;
  p.build = [counts, fail_at, fail]() -> Step {
    ++counts->built;
    struct Owned {  // what a built case owns; counts its destruction
      explicit Owned(std::shared_ptr<Counts> c) : counts(std::move(c)) {}
      ~Owned() { ++counts->destroyed; }
      std::shared_ptr<Counts> counts;
    };
    auto owned = std::make_shared<Owned>(counts);
    return [owned, counts, fail_at, fail] {
      if (++counts->steps == fail_at) fail();
    };
  };
  return p;
}

TEST(RunCase, WarmsUpThenTimesOneStepPerIterationWithPlainCounters) {
  auto counts = std::make_shared<Counts>();
  FakeMeter meter;
  FixedTimer timer;
  RunSettings settings{2, &meter, &timer};
  benchmark::RegisterBenchmark("RunCaseTest/plain", [&](benchmark::State& state) {
    run_case(state, [&] { return counting_case(counts); }, settings);
  })->UseManualTime()->Iterations(5);
  const auto runs = run_filter("^RunCaseTest/plain");
  ASSERT_EQ(runs.size(), 1u);
  const auto& r = runs[0];
  EXPECT_FALSE(r.error_occurred);
  EXPECT_EQ(r.iterations, 5);
  EXPECT_EQ(counts->built, 1);
  EXPECT_EQ(counts->steps, 2 + 5);
  EXPECT_EQ(counts->destroyed, 1);
  EXPECT_EQ(timer.starts, 5);
  EXPECT_EQ(meter.calls, "bmssssse");
  EXPECT_NEAR(r.GetAdjustedRealTime(), 2.0e6, 1.0);  // 2 ms in the default unit, ns
  EXPECT_EQ(r.counters.at("mem_alloc").value, 1234567);
  EXPECT_EQ(r.counters.at("mem_used").value, 7654321);
  EXPECT_EQ(r.counters.at("params").value, 42);
  EXPECT_EQ(r.counters.at("flops").value, static_cast<double>(int64_t{3} << 40));
  EXPECT_EQ(r.counters.count("mem_reserved"), 0u);
  for (const auto& [name, counter] : r.counters) EXPECT_EQ(counter.flags, benchmark::Counter::kDefaults) << name;
}

TEST(RunCase, BadArgumentsBecomeAnErrorEntry) {
  FakeMeter meter;
  FixedTimer timer;
  RunSettings settings{1, &meter, &timer};
  benchmark::RegisterBenchmark("RunCaseTest/bad_args", [&](benchmark::State& state) {
    run_case(state, []() -> PreparedCase { throw std::invalid_argument("g:3 must divide cin:64"); }, settings);
  })->UseManualTime()->Iterations(1);
  const auto runs = run_filter("^RunCaseTest/bad_args");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "g:3 must divide cin:64");
  EXPECT_EQ(meter.calls, "");
}

TEST(RunCase, OutOfMemoryInWarmUpOrMeasurementIsReportedAndReleased) {
  FakeMeter meter;
  FixedTimer timer;
  RunSettings settings{1, &meter, &timer};
  auto warm = std::make_shared<Counts>();
  auto measured = std::make_shared<Counts>();
  auto other = std::make_shared<Counts>();
  benchmark::RegisterBenchmark("RunCaseTest/oom_warmup", [&](benchmark::State& state) {
    run_case(state, [&] {
      return counting_case(warm, 1, [] { C10_THROW_ERROR(OutOfMemoryError, "out of memory: tried to allocate 9 bytes"); });
    }, settings);
  })->UseManualTime()->Iterations(3);
  benchmark::RegisterBenchmark("RunCaseTest/oom_measured", [&](benchmark::State& state) {
    run_case(state, [&] { return counting_case(measured, 3, [] { throw std::bad_alloc(); }); }, settings);
  })->UseManualTime()->Iterations(3);
  benchmark::RegisterBenchmark("RunCaseTest/other_error", [&](benchmark::State& state) {
    run_case(state, [&] {
      return counting_case(other, 2, [] { throw torch_error("Expected 4D input\nsecond line"); });
    }, settings);
  })->UseManualTime()->Iterations(3);
  const auto runs = run_filter("^RunCaseTest/(oom_|other_)");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_TRUE(runs[0].error_occurred);
  EXPECT_EQ(runs[0].error_message, "out of memory: tried to allocate 9 bytes");
  EXPECT_EQ(warm->destroyed, 1);
  EXPECT_TRUE(runs[1].error_occurred);
  EXPECT_EQ(runs[1].error_message, "out of memory: std::bad_alloc");
  EXPECT_EQ(measured->steps, 3);
  EXPECT_EQ(measured->destroyed, 1);
  EXPECT_TRUE(runs[2].error_occurred);
  EXPECT_EQ(runs[2].error_message, "Expected 4D input second line");
}

TEST(RunCase, LibTorchCpuOutOfMemoryWordingIsRecognised) {
  const auto error = std::make_exception_ptr(
      torch_error("DefaultCPUAllocator: not enough memory: you tried to allocate 8 bytes."));
  EXPECT_TRUE(is_out_of_memory(error));
  EXPECT_EQ(failure_message(error),
            "out of memory: DefaultCPUAllocator: not enough memory: you tried to allocate 8 bytes.");
  EXPECT_FALSE(is_out_of_memory(std::make_exception_ptr(std::runtime_error("out of memory"))));
  EXPECT_FALSE(is_out_of_memory(std::make_exception_ptr(torch_error("shape mismatch"))));
}

TEST(RunCase, AMissingHalfPrecisionKernelIsSaidAsSuch) {
  const auto error = std::make_exception_ptr(torch_error("\"hardshrink_backward_cpu\" not implemented for 'BFloat16'"));
  EXPECT_FALSE(is_out_of_memory(error));
  EXPECT_EQ(failure_message(error), "this LibTorch cannot run the step in its precision: \"hardshrink_backward_cpu\" not "
                                    "implemented for 'BFloat16'");
}

modelgen::NetSpec small_net(const std::string& name, int64_t width) {
  return modelgen::parse_netspec(R"({"netspec": 1, "name": ")" + name + R"(", "classes": 10,
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 4, "kernel": 3},
      {"name": "flat", "op": "flatten", "inputs": ["conv"]},
      {"name": "fc1", "op": "linear", "inputs": ["flat"], "in_features": 144, "out_features": )" +
                                     std::to_string(width) + R"(},
      {"name": "fc2", "op": "linear", "inputs": ["fc1"], "in_features": )" + std::to_string(width) +
                                     R"(, "out_features": 10}],
    "output": "fc2"})", name);
}

TEST(Registration, NetworkCasesRunWithRealMemoryAndTheLimitGivesAnErrorThenGoesOn) {
  CpuAllocationTracker& tracker = CpuAllocationTracker::install();
  CpuMemoryMeter meter(tracker);
  SteadyClockTimer timer;
  RunSettings settings{1, &meter, &timer};
  Sweep sweep = sweep_preset("quick");
  sweep.conv2d.clear();  // networks only
  sweep.linear.clear();
  sweep.batchnorm2d.clear();
  std::vector<BenchNet> nets;
  for (const auto& [name, width] : {std::pair<std::string, int64_t>{"reg_big", 4096}, {"reg_small", 8}}) {
    modelgen::NetSpec spec = small_net(name, width);
    modelgen::ShapedNet shapes = modelgen::infer_shapes(spec);
    nets.push_back(BenchNet{spec, shapes, name + ".json"});
  }
  register_cases(sweep, nets, {2, 3}, settings);
  // The big net's weights (600k parameters, 2.4 MB) cannot fit 1 MiB beyond what is live.
  tracker.set_limit_bytes(tracker.live_bytes() + (int64_t{1} << 20));
  const auto runs = run_filter("^Net/reg_");
  tracker.set_limit_bytes(std::nullopt);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].benchmark_name(), "Net/reg_big/bs:2/manual_time");
  EXPECT_EQ(runs[1].benchmark_name(), "Net/reg_big/bs:3/manual_time");
  EXPECT_EQ(runs[2].benchmark_name(), "Net/reg_small/bs:2/manual_time");
  for (int i : {0, 1}) {
    EXPECT_TRUE(runs[static_cast<size_t>(i)].error_occurred);
    EXPECT_EQ(runs[static_cast<size_t>(i)].error_message.rfind("out of memory: ", 0), 0u)
        << runs[static_cast<size_t>(i)].error_message;
  }
  for (const auto& [index, batch] : {std::pair<size_t, int64_t>{2, 2}, {3, 3}}) {
    const auto& r = runs[index];
    ASSERT_FALSE(r.error_occurred) << r.error_message;
    EXPECT_EQ(r.counters.at("params").value, static_cast<double>(nets[1].shapes.params));
    EXPECT_EQ(r.counters.at("flops").value, static_cast<double>(nets[1].shapes.training_flops(batch)));
    // Weights, gradients and momentum at least.
    EXPECT_GE(r.counters.at("mem_alloc").value, 3.0 * 4 * static_cast<double>(nets[1].shapes.params));
    EXPECT_GE(r.counters.at("mem_used").value, 0.0);
    EXPECT_GT(r.GetAdjustedRealTime(), 0.0);
  }
}

// A resumed sweep registers only the cases its results file does not hold.
TEST(Registration, CasesAResumedFileHoldsAreNotRegistered) {
  FakeMeter meter;
  FixedTimer timer;
  RunSettings settings{1, &meter, &timer};
  Sweep sweep = sweep_preset("quick");
  sweep.layer_batches = {1};
  sweep.recipes.clear();
  std::vector<BenchNet> nets;
  modelgen::NetSpec spec = small_net("reg_resumed", 8);
  nets.push_back(BenchNet{spec, modelgen::infer_shapes(spec), "reg_resumed.json"});
  const std::string first_conv = layer_case_name(LayerKind::kConv2d, case_args(sweep.conv2d.front(), 1));
  const RegisteredCases cases =
      register_cases(sweep, nets, {2, 3, 4}, settings, {"Net/reg_resumed/bs:3", first_conv, "Net/other/bs:2"});
  EXPECT_EQ(cases.skipped, (std::vector<std::string>{first_conv, "Net/reg_resumed/bs:3"}));
  EXPECT_EQ(std::count(cases.registered.begin(), cases.registered.end(), first_conv), 0);
  EXPECT_EQ(cases.registered.back(), "Net/reg_resumed/bs:4");
  EXPECT_EQ(cases.registered.size() + cases.skipped.size(),
            sweep.conv2d.size() + sweep.linear.size() + sweep.batchnorm2d.size() + sweep.activation.size() +
                sweep.layernorm2d.size() + sweep.channel_shuffle.size() + sweep.squeeze_excitation.size() + 3);
  const auto runs = run_filter("^Net/reg_resumed/");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].benchmark_name(), "Net/reg_resumed/bs:2/manual_time");
  EXPECT_EQ(runs[1].benchmark_name(), "Net/reg_resumed/bs:4/manual_time");
}

}  // namespace
}  // namespace p4s::bench
