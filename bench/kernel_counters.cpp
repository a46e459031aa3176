#include "bench/kernel_counters.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "cupti/counters.hpp"

namespace p4s::bench {
namespace {

using cupti::ActivityRecords;
using cupti::StepAggregate;
using cupti::StepWindow;

// Calls f(index) for every window that holds device work over [from, to] (StepWindow::holds).
// Windows are in time order and do not overlap, so their ends are sorted too.
template <typename F>
void for_each_window(const std::vector<StepWindow>& windows, uint64_t from, uint64_t to, F&& f) {
  auto it = std::upper_bound(windows.begin(), windows.end(), from,
                             [](uint64_t t, const StepWindow& w) { return t < w.end_ns; });
  for (; it != windows.end() && it->start_ns <= to; ++it) {
    if (it->holds(from, to)) f(static_cast<size_t>(it - windows.begin()));
  }
}

void add_phase(cupti::PhaseAggregate& sum, const cupti::PhaseAggregate& p) {
  sum.kernels += p.kernels;
  sum.kernel_time_ns += p.kernel_time_ns;
  sum.busy_ns += p.busy_ns;
}

}  // namespace

cupti::Phase capture_phase(modelgen_torch::StepPhase phase) {
  switch (phase) {
    case modelgen_torch::StepPhase::kForward: return cupti::Phase::kForward;
    case modelgen_torch::StepPhase::kBackward: return cupti::Phase::kBackward;
    case modelgen_torch::StepPhase::kZeroGrad:
    case modelgen_torch::StepPhase::kOptimizerStep: return cupti::Phase::kOptimizerStep;
  }
  return cupti::Phase::kOptimizerStep;
}

void DeviceMemoryLedger::apply(const cupti::MemoryRecord& r) {
  if (r.memory_kind != cupti::MemoryKind::kDevice) return;
  if (r.operation == cupti::MemoryOperation::kAllocation) {
    live_[r.address] = r;
  } else {
    live_.erase(r.address);
  }
}

std::vector<cupti::MemoryRecord> DeviceMemoryLedger::live() const {
  std::vector<cupti::MemoryRecord> out;
  out.reserve(live_.size());
  for (const auto& [address, record] : live_) out.push_back(record);
  return out;
}

uint64_t DeviceMemoryLedger::live_bytes() const {
  uint64_t total = 0;
  for (const auto& [address, record] : live_) total += record.bytes;
  return total;
}

std::vector<StepAggregate> aggregate_case_steps(const ActivityRecords& records,
                                                const std::vector<StepWindow>& windows,
                                                DeviceMemoryLedger& ledger) {
  std::vector<ActivityRecords> slices(windows.size());
  for (const cupti::ApiRecord& a : records.api_calls) {
    // A launch belongs where it started, as LaunchIndex dates launches.
    for_each_window(windows, a.start_ns, a.start_ns, [&](size_t w) { slices[w].api_calls.push_back(a); });
  }
  const cupti::LaunchIndex launches(records.api_calls);
  for (const cupti::KernelRecord& k : records.kernels) {
    if (k.has_timestamps()) {
      for_each_window(windows, k.start_ns, k.end_ns, [&](size_t w) { slices[w].kernels.push_back(k); });
    } else if (const std::optional<uint64_t> t = launches.launch_ns(k.correlation_id)) {
      // Counted by the window it was launched in, as kernels CUPTI could not time.
      for_each_window(windows, *t, *t, [&](size_t w) { slices[w].kernels.push_back(k); });
    }
  }
  for (const cupti::MemcpyRecord& m : records.memcpys) {
    for_each_window(windows, m.start_ns, m.end_ns, [&](size_t w) { slices[w].memcpys.push_back(m); });
  }
  for (const cupti::MemsetRecord& m : records.memsets) {
    for_each_window(windows, m.start_ns, m.end_ns, [&](size_t w) { slices[w].memsets.push_back(m); });
  }

  // Device memory in time order: what happened before a window is in the ledger at its start.
  std::vector<const cupti::MemoryRecord*> memory;
  for (const cupti::MemoryRecord& r : records.memory) {
    if (r.memory_kind == cupti::MemoryKind::kDevice) memory.push_back(&r);
  }
  std::stable_sort(memory.begin(), memory.end(), [](const cupti::MemoryRecord* a, const cupti::MemoryRecord* b) {
    return a->timestamp_ns < b->timestamp_ns;
  });
  size_t next = 0;
  std::vector<StepAggregate> out;
  out.reserve(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    const StepWindow& window = windows[w];
    while (next < memory.size() && memory[next]->timestamp_ns < window.start_ns) ledger.apply(*memory[next++]);
    ActivityRecords& slice = slices[w];
    slice.memory = ledger.live();
    for (size_t i = next; i < memory.size() && memory[i]->timestamp_ns < window.end_ns; ++i) {
      slice.memory.push_back(*memory[i]);
    }
    out.push_back(cupti::aggregate_step(slice, window));
    slice = ActivityRecords{};  // done with it
  }
  while (next < memory.size()) ledger.apply(*memory[next++]);
  return out;
}

std::vector<ObservedCounter> case_kernel_counters(const std::vector<StepAggregate>& steps,
                                                  uint64_t dropped_records) {
  if (steps.empty()) return {};
  // Totals over the steps; the memory peaks are the largest of any step.
  StepAggregate sum;
  uint64_t peak_bytes = 0, step_peak_bytes = 0;
  for (const StepAggregate& s : steps) {
    sum.duration_ns += s.duration_ns;
    sum.kernels += s.kernels;
    sum.kernel_time_ns += s.kernel_time_ns;
    sum.busy_ns += s.busy_ns;
    sum.kernels_without_timestamps += s.kernels_without_timestamps;
    sum.kernels_without_launch += s.kernels_without_launch;
    for (size_t i = 0; i < sum.phases.size(); ++i) add_phase(sum.phases[i], s.phases[i]);
    add_phase(sum.unattributed, s.unattributed);
    for (size_t i = 0; i < sum.families.size(); ++i) {
      sum.families[i].kernels += s.families[i].kernels;
      sum.families[i].kernel_time_ns += s.families[i].kernel_time_ns;
    }
    sum.memcpys += s.memcpys;
    sum.memcpy_bytes += s.memcpy_bytes;
    sum.memcpy_time_ns += s.memcpy_time_ns;
    sum.memsets += s.memsets;
    sum.memset_bytes += s.memset_bytes;
    sum.memset_time_ns += s.memset_time_ns;
    peak_bytes = std::max(peak_bytes, s.memory.peak_bytes);
    step_peak_bytes = std::max(step_peak_bytes, s.memory.step_peak_bytes());
  }
  sum.gpu_busy = sum.duration_ns == 0 ? 0.0
                                      : std::min(1.0, static_cast<double>(sum.busy_ns) /
                                                          static_cast<double>(sum.duration_ns));
  const std::map<std::string, double> totals = cupti::step_counters(sum, dropped_records);
  const double n = static_cast<double>(steps.size());
  std::vector<ObservedCounter> out;
  for (const cupti::CounterDoc& doc : cupti::counter_docs()) {
    ObservedCounter c{doc.name, totals.at(doc.name), doc.unit == "bytes"};
    if (doc.name == "cuda_malloc_peak") {
      c.value = static_cast<double>(peak_bytes);
    } else if (doc.name == "cuda_malloc_step_peak") {
      c.value = static_cast<double>(step_peak_bytes);
    } else if (doc.name == "kernels_untimed" || doc.name == "cupti_dropped_records") {
      // Totals: anything lost is reported whole.
    } else if (doc.unit == "ms" || doc.unit == "count") {
      c.value /= n;
    }
    out.push_back(std::move(c));
  }
  return out;
}

KernelCounterObserver::KernelCounterObserver(cupti::KernelCapture& capture,
                                             std::function<void()> synchronize,
                                             KernelCounterOptions options)
    : capture_(capture),
      synchronize_(std::move(synchronize)),
      options_(options),
      recorder_([&capture] { return capture.now_ns(); }) {
  if (options_.trace_steps_per_case < 1) options_.trace_steps_per_case = 1;
}

void KernelCounterObserver::before_measure(const std::string& label) {
  label_ = label;
  windows_.clear();
}

void KernelCounterObserver::before_step() {
  // The device is idle when the step's window opens, so that the window holds its work only.
  synchronize_();
  recorder_.begin_step();
}

void KernelCounterObserver::after_step() {
  synchronize_();
  windows_.push_back(recorder_.end_step());
}

void KernelCounterObserver::begin_phase(modelgen_torch::StepPhase phase) noexcept {
  try {
    recorder_.begin_phase(capture_phase(phase));
  } catch (...) {
    ++failed_marks_;
  }
}

void KernelCounterObserver::end_phases() noexcept {
  try {
    recorder_.end_phase();
  } catch (...) {
    ++failed_marks_;
  }
}

cupti::CaptureResult KernelCounterObserver::collect() {
  synchronize_();  // collect() needs every record complete
  return capture_.collect();
}

std::vector<ObservedCounter> KernelCounterObserver::after_measure() {
  cupti::CaptureResult r = collect();
  std::vector<StepWindow> windows = std::move(windows_);
  windows_.clear();
  const std::vector<StepAggregate> steps = aggregate_case_steps(r.records, windows, ledger_);
  if (options_.keep_trace) {
    const size_t keep = std::min(windows.size(), static_cast<size_t>(options_.trace_steps_per_case));
    windows.resize(keep);
    trace_.dropped_records += r.dropped_records;
    const std::vector<StepWindow> kept = windows;
    // Records of the kept steps only, so that a sweep's trace stays small.
    cupti::ActivityRecords& t = trace_.records;
    for (const cupti::KernelRecord& k : r.records.kernels) {
      bool in = false;
      for (const StepWindow& w : kept) in = in || (k.has_timestamps() && w.holds(k.start_ns, k.end_ns));
      if (in) t.kernels.push_back(k);
    }
    for (const cupti::MemcpyRecord& m : r.records.memcpys) {
      for (const StepWindow& w : kept) {
        if (w.holds(m.start_ns, m.end_ns)) {
          t.memcpys.push_back(m);
          break;
        }
      }
    }
    for (const cupti::MemsetRecord& m : r.records.memsets) {
      for (const StepWindow& w : kept) {
        if (w.holds(m.start_ns, m.end_ns)) {
          t.memsets.push_back(m);
          break;
        }
      }
    }
    for (const cupti::MemoryRecord& m : r.records.memory) {
      for (const StepWindow& w : kept) {
        if (w.holds(m.timestamp_ns, m.timestamp_ns)) {
          t.memory.push_back(m);
          break;
        }
      }
    }
    for (const cupti::ApiRecord& a : r.records.api_calls) {
      for (const StepWindow& w : kept) {
        if (w.holds(a.start_ns, a.start_ns)) {
          t.api_calls.push_back(a);
          break;
        }
      }
    }
    for (const StepWindow& w : kept) {
      trace_.steps.push_back(w);
      trace_.step_labels.push_back(label_);
    }
  }
  return case_kernel_counters(steps, r.dropped_records);
}

void KernelCounterObserver::abandon() noexcept {
  windows_.clear();
  try {
    // Take what the failed case left, so that it does not reach the next case's collection; its
    // device memory still goes through the ledger.
    cupti::CaptureResult r = collect();
    std::vector<cupti::MemoryRecord>& memory = r.records.memory;
    std::stable_sort(memory.begin(), memory.end(), [](const cupti::MemoryRecord& a, const cupti::MemoryRecord& b) {
      return a.timestamp_ns < b.timestamp_ns;
    });
    for (const cupti::MemoryRecord& m : memory) ledger_.apply(m);
  } catch (...) {
    // The device may be unusable after the failure; the next case reports that itself.
  }
}

}  // namespace p4s::bench
