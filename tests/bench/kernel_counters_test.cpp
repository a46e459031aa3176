// Kernel capture in the bench, without a GPU: the per-case aggregation against cupti's own on
// synthetic records, the device-memory ledger across collections, the per-case counters, and
// the observer driven through run_case by a scripted CUPTI whose "device" is the test.
#include <gtest/gtest.h>

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/kernel_counters.hpp"
#include "bench/run_case.hpp"
#include "cupti/counters.hpp"
#include "cupti/kernel_family.hpp"
#include "modelgen/torch/step_phases.hpp"

namespace p4s::bench {
namespace {

using cupti::ActivityRecords;
using cupti::ApiRecord;
using cupti::KernelRecord;
using cupti::MemoryRecord;
using cupti::Phase;
using cupti::StepWindow;

const std::string kGemm = "volta_sgemm_128x64_nn";
const std::string kElementwise =
    "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, at::detail::Array<char*, 1>>(int, at::native::FillFunctor<float>, at::detail::Array<char*, 1>)";

KernelRecord kernel(const std::string& name, uint64_t start, uint64_t end, uint32_t correlation) {
  KernelRecord k;
  k.name = name;
  k.start_ns = start;
  k.end_ns = end;
  k.correlation_id = correlation;
  return k;
}

ApiRecord launch(uint64_t start, uint32_t correlation) {
  ApiRecord a;
  a.start_ns = start;
  a.end_ns = start + 1;
  a.correlation_id = correlation;
  return a;
}

MemoryRecord memory(cupti::MemoryOperation op, uint64_t address, uint64_t bytes, uint64_t t) {
  MemoryRecord m;
  m.operation = op;
  m.memory_kind = cupti::MemoryKind::kDevice;
  m.address = address;
  m.bytes = bytes;
  m.timestamp_ns = t;
  return m;
}
constexpr auto kAlloc = cupti::MemoryOperation::kAllocation;
constexpr auto kFree = cupti::MemoryOperation::kRelease;

// Three steps of 1000 ns with phases, kernels, copies, memory; records before, between and
// after them; one untimed kernel; one kernel without a launch record.
struct Scenario {
  ActivityRecords records;
  std::vector<StepWindow> windows;
};

Scenario scenario() {
  Scenario s;
  ActivityRecords& r = s.records;
  r.memory.push_back(memory(kAlloc, 0x1000, 4096, 50));   // weights, built before the steps
  r.memory.push_back(memory(kAlloc, 0x9000, 100, 60));    // freed inside step 1
  uint32_t id = 1;
  for (uint64_t step = 0; step < 3; ++step) {
    const uint64_t t = 1000 + step * 2000;
    s.windows.push_back({t, t + 1000,
                         {{Phase::kForward, t + 10, t + 300},
                          {Phase::kBackward, t + 300, t + 700},
                          {Phase::kOptimizerStep, t + 700, t + 900}}});
    r.api_calls.push_back(launch(t + 20, id));
    r.kernels.push_back(kernel(kGemm, t + 30, t + 230, id++));        // forward, 200 ns
    r.api_calls.push_back(launch(t + 310, id));
    r.kernels.push_back(kernel(kGemm, t + 320, t + 620, id++));       // backward, 300 ns
    r.api_calls.push_back(launch(t + 710, id));
    r.kernels.push_back(kernel(kElementwise, t + 720, t + 820, id++));  // optimizer, 100 ns
    r.memory.push_back(memory(kAlloc, 0x2000 + step, 1000 * (step + 1), t + 100));
    r.memory.push_back(memory(kFree, 0x2000 + step, 1000 * (step + 1), t + 800));
    cupti::MemcpyRecord c;
    c.start_ns = t + 850;
    c.end_ns = t + 860;
    c.bytes = 4;
    r.memcpys.push_back(c);
  }
  r.memory.push_back(memory(kFree, 0x9000, 100, 1500));
  r.api_calls.push_back(launch(3400, id));
  r.kernels.push_back(kernel(kGemm, 0, 0, id++));  // untimed, launched in step 2's backward
  r.kernels.push_back(kernel(kElementwise, 5900, 5950, 999));  // no launch record, step 3
  r.kernels.push_back(kernel(kGemm, 7500, 7600, id++));  // after the last step
  r.api_calls.push_back(launch(7400, id - 1));
  return s;
}

void expect_same(const cupti::StepAggregate& a, const cupti::StepAggregate& b) {
  EXPECT_EQ(a.duration_ns, b.duration_ns);
  EXPECT_EQ(a.kernels, b.kernels);
  EXPECT_EQ(a.kernel_time_ns, b.kernel_time_ns);
  EXPECT_EQ(a.busy_ns, b.busy_ns);
  EXPECT_DOUBLE_EQ(a.gpu_busy, b.gpu_busy);
  EXPECT_EQ(a.kernels_without_timestamps, b.kernels_without_timestamps);
  EXPECT_EQ(a.kernels_without_launch, b.kernels_without_launch);
  for (size_t i = 0; i < a.phases.size(); ++i) {
    EXPECT_EQ(a.phases[i].kernels, b.phases[i].kernels) << i;
    EXPECT_EQ(a.phases[i].busy_ns, b.phases[i].busy_ns) << i;
  }
  EXPECT_EQ(a.unattributed.busy_ns, b.unattributed.busy_ns);
  for (size_t i = 0; i < a.families.size(); ++i) EXPECT_EQ(a.families[i].kernel_time_ns, b.families[i].kernel_time_ns);
  EXPECT_EQ(a.memcpys, b.memcpys);
  EXPECT_EQ(a.memcpy_time_ns, b.memcpy_time_ns);
  EXPECT_EQ(a.memory.start_bytes, b.memory.start_bytes);
  EXPECT_EQ(a.memory.peak_bytes, b.memory.peak_bytes);
  EXPECT_EQ(a.memory.end_bytes, b.memory.end_bytes);
  EXPECT_EQ(a.memory.allocations, b.memory.allocations);
  EXPECT_EQ(a.memory.releases, b.memory.releases);
}

TEST(KernelCounters, CaseAggregationMatchesCuptisOwnOverAllRecords) {
  const Scenario s = scenario();
  DeviceMemoryLedger ledger;
  const std::vector<cupti::StepAggregate> mine = aggregate_case_steps(s.records, s.windows, ledger);
  const std::vector<cupti::StepAggregate> theirs = cupti::aggregate_steps(s.records, s.windows);
  ASSERT_EQ(mine.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    expect_same(mine[i], theirs[i]);
  }
  EXPECT_EQ(mine[0].kernels, 3u);
  EXPECT_EQ(mine[0].phase(Phase::kBackward).busy_ns, 300u);
  EXPECT_EQ(mine[1].kernels_without_timestamps, 1u);
  EXPECT_EQ(mine[2].kernels_without_launch, 1u);
  EXPECT_EQ(mine[2].unattributed.busy_ns, 50u);
  // Weights (4096) live throughout; step 1 also holds the 100 bytes it frees, step 3 3000 bytes.
  EXPECT_EQ(mine[0].memory.start_bytes, 4196u);
  EXPECT_EQ(mine[2].memory.peak_bytes, 4096u + 3000u);
  // The ledger ends with what is still allocated.
  EXPECT_EQ(ledger.live_bytes(), 4096u);
}

TEST(KernelCounters, LedgerCarriesLiveAllocationsIntoTheNextCollection) {
  DeviceMemoryLedger ledger;
  ActivityRecords first;
  first.memory = {memory(kAlloc, 0x1000, 1 << 20, 10), memory(kAlloc, 0x2000, 512, 20),
                  memory(kFree, 0x2000, 512, 30)};
  first.memory.push_back(memory(kAlloc, 0x3000, 64, 40));
  first.memory.back().memory_kind = cupti::MemoryKind::kPinned;  // not device memory: ignored
  aggregate_case_steps(first, {}, ledger);
  EXPECT_EQ(ledger.live_bytes(), uint64_t{1} << 20);

  // The next case's collection has no record of the first allocation, which is still live.
  ActivityRecords second;
  second.memory = {memory(kAlloc, 0x4000, 2048, 110), memory(kFree, 0x4000, 2048, 150)};
  const auto steps = aggregate_case_steps(second, {{100, 200, {}}}, ledger);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].memory.start_bytes, uint64_t{1} << 20);
  EXPECT_EQ(steps[0].memory.peak_bytes, (uint64_t{1} << 20) + 2048);
  EXPECT_EQ(steps[0].memory.step_peak_bytes(), 2048u);
  // Without the ledger, the inherited megabyte would be invisible.
  EXPECT_EQ(cupti::aggregate_steps(second, {{100, 200, {}}})[0].memory.peak_bytes, 2048u);
}

std::map<std::string, ObservedCounter> by_name(const std::vector<ObservedCounter>& cs) {
  std::map<std::string, ObservedCounter> m;
  for (const ObservedCounter& c : cs) m.emplace(c.name, c);
  return m;
}

TEST(KernelCounters, CaseCountersAreMeansPerStepAndPeaksOfAnyStep) {
  const Scenario s = scenario();
  DeviceMemoryLedger ledger;
  const auto steps = aggregate_case_steps(s.records, s.windows, ledger);
  const std::vector<ObservedCounter> list = case_kernel_counters(steps, 7);
  ASSERT_EQ(list.size(), cupti::counter_docs().size());
  for (size_t i = 0; i < list.size(); ++i) EXPECT_EQ(list[i].name, cupti::counter_docs()[i].name);
  const auto c = by_name(list);
  // 3 + 3 + 4 timed kernels over 3 steps.
  EXPECT_NEAR(c.at("kernels").value, 10.0 / 3, 1e-12);
  EXPECT_NEAR(c.at("kernel_time").value, (600 + 600 + 650) / 3.0 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("fwd_time").value, 200 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("bwd_time").value, 300 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("step_time").value, 100 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("unattributed_time").value, 50 / 3.0 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("gpu_busy").value, 1850.0 / 3000, 1e-12);
  EXPECT_NEAR(c.at("memcpy_time").value, 10 / 1e6, 1e-15);
  EXPECT_NEAR(c.at("mix_gemm").value + c.at("mix_elementwise").value, 1.0, 1e-12);
  EXPECT_NEAR(c.at("mix_gemm").value, 1500.0 / 1850, 1e-12);
  EXPECT_EQ(c.at("cuda_malloc_peak").value, 4096 + 3000);
  EXPECT_TRUE(c.at("cuda_malloc_peak").bytes);
  EXPECT_EQ(c.at("cuda_malloc_step_peak").value, 3000);
  EXPECT_EQ(c.at("kernels_untimed").value, 1);
  EXPECT_EQ(c.at("cupti_dropped_records").value, 7);
  EXPECT_FALSE(c.at("kernels").bytes);
  EXPECT_TRUE(case_kernel_counters({}, 0).empty());
}

TEST(KernelCounters, ZeroGradCountsWithTheOptimizerStep) {
  EXPECT_EQ(capture_phase(modelgen_torch::StepPhase::kForward), Phase::kForward);
  EXPECT_EQ(capture_phase(modelgen_torch::StepPhase::kZeroGrad), Phase::kOptimizerStep);
  EXPECT_EQ(capture_phase(modelgen_torch::StepPhase::kBackward), Phase::kBackward);
  EXPECT_EQ(capture_phase(modelgen_torch::StepPhase::kOptimizerStep), Phase::kOptimizerStep);
}

// A CUPTI whose clock and records the test writes: the "device" of a fake training step.
class ScriptedCupti final : public cupti::ActivityApi {
 public:
  cupti::Availability availability() const override { return cupti::Availability::on("scripted CUPTI"); }
  cupti::Status enable(const cupti::ActivityKinds&) override { return cupti::Status::success(); }
  cupti::Status disable() override { return cupti::Status::success(); }
  cupti::Status flush() override {
    ++flushes;
    return cupti::Status::success();
  }
  std::vector<cupti::ActivityBuffer> activity_buffers() override {
    std::vector<cupti::ActivityBuffer> out;
    if (pending.size() > 0) out.emplace_back(8);
    return out;
  }
  cupti::Status process_activities(const cupti::ActivityBuffer&, ActivityRecords& out) override {
    out.append(std::move(pending));
    pending = ActivityRecords{};
    return cupti::Status::success();
  }
  uint64_t dropped_records(cupti::Status* status) override {
    if (status != nullptr) *status = cupti::Status::success();
    return 0;
  }
  std::vector<std::string> take_errors() override { return {}; }
  uint64_t now_ns() const override { return clock; }

  uint64_t clock = 1'000'000;
  ActivityRecords pending;
  int flushes = 0;
};

class NoMeter final : public MemoryMeter {
 public:
  void before_build() override {}
  void before_measure() override {}
  void after_step() override {}
  MemoryCounters after_measure() override { return {}; }
  void after_case() override { ++cases; }
  int cases = 0;
};

class NoTimer final : public StepTimer {
 public:
  void start() override {}
  double stop_seconds() override { return 0.001; }
};

class CaptureReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override { runs_.insert(runs_.end(), runs.begin(), runs.end()); }
  std::vector<Run> runs_;
};

// A training step as the device sees it: phase marks, launches and kernels of 200 ns (forward,
// gemm), 50 ns (zero_grad, elementwise), 300 ns (backward, gemm), 100 ns (optimizer,
// elementwise), and a 1 MiB activation allocated in forward and freed in backward.
void scripted_step(ScriptedCupti& cupti, uint32_t& id) {
  auto run = [&](modelgen_torch::StepPhase phase, const std::string& name, uint64_t ns) {
    cupti.clock += 10;
    modelgen_torch::mark_phase(phase);
    cupti.clock += 5;
    cupti.pending.api_calls.push_back(launch(cupti.clock, id));
    cupti.pending.kernels.push_back(kernel(name, cupti.clock + 2, cupti.clock + 2 + ns, id++));
    cupti.clock += ns + 10;
  };
  run(modelgen_torch::StepPhase::kForward, kGemm, 200);
  cupti.pending.memory.push_back(memory(kAlloc, 0xA000, 1 << 20, cupti.clock));
  run(modelgen_torch::StepPhase::kZeroGrad, kElementwise, 50);
  run(modelgen_torch::StepPhase::kBackward, kGemm, 300);
  cupti.pending.memory.push_back(memory(kFree, 0xA000, 1 << 20, cupti.clock));
  run(modelgen_torch::StepPhase::kOptimizerStep, kElementwise, 100);
  modelgen_torch::mark_phases_end();
  cupti.clock += 10;
}

TEST(KernelCounterObserver, GivesEveryMeasuredStepItsCountersThroughRunCase) {
  auto api = std::make_unique<ScriptedCupti>();
  ScriptedCupti& cupti = *api;
  cupti::KernelCapture capture(std::move(api));
  ASSERT_TRUE(capture.start());
  int syncs = 0;
  KernelCounterOptions options;
  options.keep_trace = true;
  options.trace_steps_per_case = 2;
  KernelCounterObserver observer(capture, [&] { ++syncs; }, options);
  NoMeter meter;
  NoTimer timer;
  RunSettings settings;
  settings.warmup_steps = 1;
  settings.meter = &meter;
  settings.timer = &timer;
  settings.observer = &observer;
  uint32_t id = 1;
  int steps = 0;
  benchmark::RegisterBenchmark("KernelObserverTest/net", [&](benchmark::State& state) {
    run_case(state, [&] {
      PreparedCase p;
      p.name = "Net/scripted/bs:2";
      p.build = [&]() -> Step {
        cupti.pending.memory.push_back(memory(kAlloc, 0x1000, 4096, cupti.clock));  // weights
        return [&] {
          ++steps;
          scripted_step(cupti, id);
        };
      };
      return p;
    }, settings);
  })->UseManualTime()->Iterations(4);
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, "^KernelObserverTest/net");
  ASSERT_EQ(reporter.runs_.size(), 1u);
  const auto& r = reporter.runs_[0];
  ASSERT_FALSE(r.error_occurred) << r.error_message;
  EXPECT_EQ(steps, 1 + 4);
  EXPECT_EQ(syncs, 2 * 4 + 1);  // around each measured step, and before collecting
  EXPECT_EQ(meter.cases, 1);
  EXPECT_EQ(r.counters.at("kernels").value, 4);
  EXPECT_NEAR(r.counters.at("kernel_time").value, 650 / 1e6, 1e-15);
  EXPECT_NEAR(r.counters.at("fwd_time").value, 200 / 1e6, 1e-15);
  EXPECT_NEAR(r.counters.at("bwd_time").value, 300 / 1e6, 1e-15);
  EXPECT_NEAR(r.counters.at("step_time").value, 150 / 1e6, 1e-15);  // zero_grad + optimizer step
  EXPECT_EQ(r.counters.at("unattributed_time").value, 0);
  EXPECT_NEAR(r.counters.at("mix_gemm").value, 500.0 / 650, 1e-12);
  // The weights from the build are live in every step; the activation adds 1 MiB.
  EXPECT_EQ(r.counters.at("cuda_malloc_peak").value, 4096 + (1 << 20));
  EXPECT_EQ(r.counters.at("cuda_malloc_step_peak").value, 1 << 20);
  EXPECT_EQ(r.counters.at("kernels").flags, benchmark::Counter::kDefaults);

  // The trace keeps the first two measured steps, labelled, with their four kernels each.
  const cupti::KernelTrace& trace = observer.trace();
  ASSERT_EQ(trace.steps.size(), 2u);
  EXPECT_EQ(trace.step_labels, (std::vector<std::string>{"Net/scripted/bs:2", "Net/scripted/bs:2"}));
  EXPECT_EQ(trace.records.kernels.size(), 8u);
  EXPECT_EQ(trace.records.api_calls.size(), 8u);
  EXPECT_EQ(trace.steps[0].phases.size(), 4u);  // zero_grad is an optimizer-step span of its own
  EXPECT_EQ(observer.failed_marks(), 0u);
  EXPECT_EQ(modelgen_torch::current_phase_observer(), nullptr);  // uninstalled after the case
}

TEST(KernelCounterObserver, AFailedCaseLeavesNothingForTheNext) {
  auto api = std::make_unique<ScriptedCupti>();
  ScriptedCupti& cupti = *api;
  cupti::KernelCapture capture(std::move(api));
  ASSERT_TRUE(capture.start());
  KernelCounterObserver observer(capture, [] {});
  NoMeter meter;
  NoTimer timer;
  RunSettings settings{1, &meter, &timer};
  settings.observer = &observer;
  uint32_t id = 1;
  int calls = 0;
  benchmark::RegisterBenchmark("KernelObserverTest/fails", [&](benchmark::State& state) {
    run_case(state, [&] {
      PreparedCase p;
      p.build = [&]() -> Step {
        return [&] {
          scripted_step(cupti, id);
          if (++calls == 3) throw std::runtime_error("device lost");
        };
      };
      return p;
    }, settings);
  })->UseManualTime()->Iterations(5);
  CaptureReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter, "^KernelObserverTest/fails");
  ASSERT_EQ(reporter.runs_.size(), 1u);
  EXPECT_TRUE(reporter.runs_[0].error_occurred);
  EXPECT_EQ(reporter.runs_[0].error_message, "device lost");
  EXPECT_EQ(meter.cases, 1);
  EXPECT_EQ(cupti.pending.size(), 0u);  // collected and dropped by abandon()
  EXPECT_EQ(modelgen_torch::current_phase_observer(), nullptr);
}

}  // namespace
}  // namespace p4s::bench
