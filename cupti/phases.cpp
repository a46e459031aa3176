#include "cupti/phases.hpp"

#include <utility>

namespace p4s::cupti {

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::kForward: return "forward";
    case Phase::kBackward: return "backward";
    case Phase::kOptimizerStep: return "optimizer_step";
  }
  return "unknown";
}

std::optional<Phase> phase_from_name(std::string_view name) {
  for (Phase p : kAllPhases) {
    if (phase_name(p) == name) return p;
  }
  return std::nullopt;
}

std::optional<Phase> StepWindow::phase_at(uint64_t t_ns) const {
  for (const PhaseSpan& s : phases) {
    if (t_ns >= s.start_ns && t_ns < s.end_ns) return s.phase;
  }
  return std::nullopt;
}

std::string StepWindow::check() const {
  if (end_ns < start_ns) {
    return "step ends (" + std::to_string(end_ns) + " ns) before it starts (" +
           std::to_string(start_ns) + " ns)";
  }
  uint64_t previous_end = start_ns;
  for (const PhaseSpan& s : phases) {
    const std::string name(phase_name(s.phase));
    if (s.end_ns < s.start_ns) return "phase " + name + " ends before it starts";
    if (s.start_ns < start_ns || s.end_ns > end_ns) return "phase " + name + " lies outside its step";
    if (s.start_ns < previous_end) return "phase " + name + " overlaps the phase before it";
    previous_end = s.end_ns;
  }
  return {};
}

StepRecorder::StepRecorder(Clock clock) : clock_(std::move(clock)) {}

void StepRecorder::begin_step() {
  current_ = StepWindow{};
  open_.reset();
  current_.start_ns = clock_();
}

void StepRecorder::begin_phase(Phase phase) {
  const uint64_t now = clock_();
  if (open_) {
    open_->end_ns = now;
    current_.phases.push_back(*open_);
  }
  open_ = PhaseSpan{phase, now, now};
}

void StepRecorder::end_phase() {
  if (!open_) return;
  open_->end_ns = clock_();
  current_.phases.push_back(*open_);
  open_.reset();
}

StepWindow StepRecorder::end_step() {
  end_phase();
  current_.end_ns = clock_();
  StepWindow out = std::move(current_);
  current_ = StepWindow{};
  return out;
}

}  // namespace p4s::cupti
