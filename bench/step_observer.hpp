// A seam for counters that come from watching the measured steps from outside (kernel capture),
// beside the MemoryMeter and the StepTimer. run_case calls it outside the timed region only.
#pragma once

#include <string>
#include <vector>

#include "modelgen/torch/step_phases.hpp"

namespace p4s::bench {

// One user counter of a case: a plain value (not a rate), in the unit its name documents.
struct ObservedCounter {
  std::string name;
  double value = 0;
  bool bytes = false;  // shown with binary prefixes
};

class StepObserver {
 public:
  virtual ~StepObserver() = default;
  // After the warm-up steps, before the first measured step. `label` names the case.
  virtual void before_measure(const std::string& label) = 0;
  // Right before and right after each measured step, outside the timed region (they may wait
  // for the device).
  virtual void before_step() = 0;
  virtual void after_step() = 0;
  // After the last measured step: the case's counters.
  virtual std::vector<ObservedCounter> after_measure() = 0;
  // The case failed after before_measure: forget its steps. Must not throw.
  virtual void abandon() noexcept = 0;
  // Installed on the measuring thread during the measured steps, to receive the steps' phase
  // marks; nullptr when phases do not matter.
  virtual modelgen_torch::PhaseObserver* phases() { return nullptr; }
};

}  // namespace p4s::bench
