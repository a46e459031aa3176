// The clock around one measured training step. A seam: the CPU path uses a steady clock; a
// GPU path records device events around the step in the same two calls.
#pragma once

#include <chrono>

namespace p4s::bench {

class StepTimer {
 public:
  virtual ~StepTimer() = default;
  // Called right before the step.
  virtual void start() = 0;
  // Called right after the step; returns the step's duration in seconds, waiting for the
  // device's work to finish where the device runs asynchronously.
  virtual double stop_seconds() = 0;
};

// Host wall time: the CPU runs the step synchronously, so the step ends when run() returns.
class SteadyClockTimer final : public StepTimer {
 public:
  void start() override { start_ = std::chrono::steady_clock::now(); }
  double stop_seconds() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace p4s::bench
