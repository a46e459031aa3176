// The phases a training step announces: in order, once per step, on the thread that runs it,
// to the observer installed there, and to nobody once it is gone.
#include <gtest/gtest.h>

#include <c10/core/Device.h>

#include <string>
#include <thread>
#include <vector>

#include "modelgen/torch/step_phases.hpp"
#include "modelgen/torch/training_step.hpp"
#include "test_specs.hpp"

namespace p4s::modelgen_torch {
namespace {

class RecordingObserver final : public PhaseObserver {
 public:
  void begin_phase(StepPhase phase) noexcept override { marks.emplace_back(step_phase_name(phase)); }
  void end_phases() noexcept override { marks.emplace_back("end"); }
  std::vector<std::string> marks;
};

const std::vector<std::string> kOneStep = {"forward", "zero_grad", "backward", "optimizer_step", "end"};

TEST(StepPhases, NetworkStepAnnouncesItsPhasesInOrder) {
  TrainingStep step(testing_specs::tiny(), 2, torch::kCPU);
  RecordingObserver observer;
  {
    ScopedPhaseObserver scope(&observer);
    step.run();
  }
  EXPECT_EQ(observer.marks, kOneStep);
  step.run();  // the observer is gone
  EXPECT_EQ(observer.marks.size(), kOneStep.size());
}

TEST(StepPhases, LayerStepAnnouncesTheSamePhases) {
  modelgen::Layer layer = testing_specs::tiny().layers.front();
  LayerTrainingStep step(layer, modelgen::TensorShape{3, 8, 8, false}, 2, torch::kCPU);
  RecordingObserver observer;
  ScopedPhaseObserver scope(&observer);
  step.run();
  step.run();
  std::vector<std::string> two = kOneStep;
  two.insert(two.end(), kOneStep.begin(), kOneStep.end());
  EXPECT_EQ(observer.marks, two);
}

TEST(StepPhases, ObserversNestAndArePerThread) {
  RecordingObserver outer, inner;
  EXPECT_EQ(current_phase_observer(), nullptr);
  {
    ScopedPhaseObserver a(&outer);
    {
      ScopedPhaseObserver b(&inner);
      mark_phase(StepPhase::kBackward);
      PhaseObserver* seen_elsewhere = &inner;
      std::thread([&] { seen_elsewhere = current_phase_observer(); }).join();
      EXPECT_EQ(seen_elsewhere, nullptr);
    }
    mark_phases_end();
  }
  EXPECT_EQ(current_phase_observer(), nullptr);
  mark_phase(StepPhase::kForward);  // nobody listens
  EXPECT_EQ(inner.marks, std::vector<std::string>{"backward"});
  EXPECT_EQ(outer.marks, std::vector<std::string>{"end"});
}

}  // namespace
}  // namespace p4s::modelgen_torch
