// Kernel capture in the bench: the StepObserver that marks each measured step and its phases on
// CUPTI's clock, collects the records once per case, and turns them into the case's counters
// (cupti/counters.hpp names), and optionally keeps a per-kernel trace of the first steps of
// every case (--p4s_kernel_trace). The aggregation is pure and tested on synthetic records.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/step_observer.hpp"
#include "cupti/kernel_capture.hpp"
#include "cupti/kernel_trace.hpp"
#include "cupti/phases.hpp"
#include "cupti/records.hpp"
#include "cupti/step_aggregate.hpp"

namespace p4s::bench {

// The capture's phase for a training-step phase. zero_grad is the optimizer's call
// (optimizer.zero_grad() in PyTorch), so it counts with the optimizer step: step_time holds both.
cupti::Phase capture_phase(modelgen_torch::StepPhase phase);

// Device allocations (MemoryKind::kDevice) live across collections: a capture is collected once
// per case, and memory a case inherits (cached blocks, library workspaces) must still count in
// the level its steps start from.
class DeviceMemoryLedger {
 public:
  // Applies one record: an allocation becomes live, a release ends the live one at its address.
  // Records of other memory kinds are ignored.
  void apply(const cupti::MemoryRecord& record);
  // The live allocations, each as its allocation record.
  std::vector<cupti::MemoryRecord> live() const;
  uint64_t live_bytes() const;

 private:
  std::unordered_map<uint64_t, cupti::MemoryRecord> live_;  // by address
};

// Aggregates each window (cupti::aggregate_step semantics) from one collection's records, in
// time linear in the records: each window sees only the records that overlap it, and device
// memory starts from the allocations live at its start (the ledger's, then the collection's own).
// Applies every memory record of `records` to the ledger. Precondition: windows are well formed,
// in time order and do not overlap.
std::vector<cupti::StepAggregate> aggregate_case_steps(const cupti::ActivityRecords& records,
                                                       const std::vector<cupti::StepWindow>& windows,
                                                       DeviceMemoryLedger& ledger);

// The case's counters from its measured steps, one per cupti::counter_docs() entry, in its
// order: times (ms) and counts are means per step, as the case's real_time is; gpu_busy is the
// busy time over the steps' total duration; mix_* are shares of all the steps' kernel time;
// cuda_malloc_peak and cuda_malloc_step_peak the largest of any step; kernels_untimed the total;
// cupti_dropped_records the collection's. Empty when there are no steps.
std::vector<ObservedCounter> case_kernel_counters(const std::vector<cupti::StepAggregate>& steps,
                                                  uint64_t dropped_records);

struct KernelCounterOptions {
  bool keep_trace = false;       // keep the first steps of every case for a kernel trace
  int trace_steps_per_case = 3;  // > 0
};

class KernelCounterObserver final : public StepObserver, private modelgen_torch::PhaseObserver {
 public:
  // `capture` is started and, like `synchronize` (waits until the device is idle), outlives
  // the observer.
  KernelCounterObserver(cupti::KernelCapture& capture, std::function<void()> synchronize,
                        KernelCounterOptions options = {});

  void before_measure(const std::string& label) override;
  void before_step() override;
  void after_step() override;
  std::vector<ObservedCounter> after_measure() override;
  void abandon() noexcept override;
  modelgen_torch::PhaseObserver* phases() override { return this; }

  // The trace kept so far (steps labelled with their cases); `capture` and `dropped_records`
  // are for the caller to fill.
  const cupti::KernelTrace& trace() const { return trace_; }
  // Phase marks that could not be recorded (memory), to report once.
  uint64_t failed_marks() const { return failed_marks_; }

 private:
  void begin_phase(modelgen_torch::StepPhase phase) noexcept override;
  void end_phases() noexcept override;
  // Collects the capture and feeds the ledger; returns the records.
  cupti::CaptureResult collect();
  void keep_for_trace(const cupti::ActivityRecords& records);

  cupti::KernelCapture& capture_;
  std::function<void()> synchronize_;
  KernelCounterOptions options_;
  cupti::StepRecorder recorder_;
  std::vector<cupti::StepWindow> windows_;
  std::string label_;
  DeviceMemoryLedger ledger_;
  cupti::KernelTrace trace_;
  uint64_t failed_marks_ = 0;
};

}  // namespace p4s::bench
