#include "modelgen/torch/step_phases.hpp"

namespace p4s::modelgen_torch {
namespace {

thread_local PhaseObserver* t_observer = nullptr;

}  // namespace

std::string_view step_phase_name(StepPhase phase) {
  switch (phase) {
    case StepPhase::kForward: return "forward";
    case StepPhase::kZeroGrad: return "zero_grad";
    case StepPhase::kBackward: return "backward";
    case StepPhase::kOptimizerStep: return "optimizer_step";
  }
  return "unknown";
}

ScopedPhaseObserver::ScopedPhaseObserver(PhaseObserver* observer) noexcept : previous_(t_observer) {
  t_observer = observer;
}

ScopedPhaseObserver::~ScopedPhaseObserver() { t_observer = previous_; }

PhaseObserver* current_phase_observer() noexcept { return t_observer; }

void mark_phase(StepPhase phase) noexcept {
  if (t_observer != nullptr) t_observer->begin_phase(phase);
}

void mark_phases_end() noexcept {
  if (t_observer != nullptr) t_observer->end_phases();
}

}  // namespace p4s::modelgen_torch
