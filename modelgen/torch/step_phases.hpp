// The phases of a training step, announced by TrainingStep::run and LayerTrainingStep::run to
// an observer that a measuring loop installs on its thread (kernel capture marks its timeline
// with them).
//
// Why a per-thread observer rather than a parameter of run(): the measuring loop sees a step
// only as a callable, and phase marks are a concern of the measurement, not of the step (as
// PyTorch's own RecordFunction callbacks are per thread). The marks are made on the thread that
// calls run(); LibTorch's autograd threads launch backward work while that thread waits inside
// backward(), so the host interval between two marks holds every launch of its phase. With no
// observer installed a mark costs one thread-local read.
#pragma once

#include <string_view>

namespace p4s::modelgen_torch {

// In the order run() enters them: forward (forward pass and loss), zero_grad, backward, and
// the optimizer's step; a step that sets the gradients to none runs zero_grad first.
enum class StepPhase { kForward, kZeroGrad, kBackward, kOptimizerStep };

// "forward", "zero_grad", "backward", "optimizer_step".
std::string_view step_phase_name(StepPhase phase);

class PhaseObserver {
 public:
  virtual ~PhaseObserver() = default;
  // Right before the phase's first call. Must not throw.
  virtual void begin_phase(StepPhase phase) noexcept = 0;
  // Right after the step's last call returned (device work may still be running). Must not throw.
  virtual void end_phases() noexcept = 0;
};

// Installs `observer` (nullptr: none) for the steps run on this thread while it lives, and puts
// back the one before it when it ends.
class ScopedPhaseObserver {
 public:
  explicit ScopedPhaseObserver(PhaseObserver* observer) noexcept;
  ~ScopedPhaseObserver();
  ScopedPhaseObserver(const ScopedPhaseObserver&) = delete;
  ScopedPhaseObserver& operator=(const ScopedPhaseObserver&) = delete;

 private:
  PhaseObserver* previous_;
};

// The observer installed on this thread, or nullptr.
PhaseObserver* current_phase_observer() noexcept;

// The marks the training steps make.
void mark_phase(StepPhase phase) noexcept;
void mark_phases_end() noexcept;

}  // namespace p4s::modelgen_torch
