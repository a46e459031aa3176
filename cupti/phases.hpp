// Training-step windows and phase marks, taken on the host with KernelCapture::now_ns().
//
// Why host-side marks: a kernel is attributed to the phase during which its launch call
// (cudaLaunchKernel, cuLaunchKernel, ...) ran on the host; CUPTI's launch-call records
// (ActivityKinds::launch_api) carry that time and the kernel's correlation id. This holds
// whichever thread launches: LibTorch runs the backward pass of CUDA tensors on its own
// autograd device threads, where an external correlation id pushed on the calling thread
// (cuptiActivityPushExternalCorrelationId is per thread) or an NVTX range would not be seen, and
// the caller's thread waits in backward() until those launches are done, so the host interval
// of backward() contains them all. Marks cost a clock read; nothing is injected into CUDA.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p4s::cupti {

enum class Phase { kForward, kBackward, kOptimizerStep };
inline constexpr Phase kAllPhases[] = {Phase::kForward, Phase::kBackward, Phase::kOptimizerStep};

std::string_view phase_name(Phase phase);  // "forward", "backward", "optimizer_step"
std::optional<Phase> phase_from_name(std::string_view name);

// A phase's host interval [start_ns, end_ns).
struct PhaseSpan {
  Phase phase = Phase::kForward;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  friend bool operator==(const PhaseSpan& a, const PhaseSpan& b) {
    return a.phase == b.phase && a.start_ns == b.start_ns && a.end_ns == b.end_ns;
  }
};

// One measured training step: its interval [start_ns, end_ns) (host marks taken after a device
// synchronize at both ends, so the step's device work lies inside) and its phases, in order,
// not overlapping, inside the step. Work launched outside every phase is "unattributed".
struct StepWindow {
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  std::vector<PhaseSpan> phases;

  uint64_t duration_ns() const { return end_ns > start_ns ? end_ns - start_ns : 0; }
  // The phase whose span holds `t_ns`, or nullopt.
  std::optional<Phase> phase_at(uint64_t t_ns) const;
  // Whether device work over [from_ns, to_ns] belongs to the step: it overlaps the window
  // (an instant, from_ns == to_ns, belongs when it lies in [start_ns, end_ns)).
  bool holds(uint64_t from_ns, uint64_t to_ns) const {
    if (to_ns < from_ns) return false;
    if (from_ns == to_ns) return from_ns >= start_ns && from_ns < end_ns;
    return from_ns < end_ns && to_ns > start_ns;
  }
  // Empty when the window is well formed; otherwise what is wrong, in one line.
  std::string check() const;
  friend bool operator==(const StepWindow& a, const StepWindow& b) {
    return a.start_ns == b.start_ns && a.end_ns == b.end_ns && a.phases == b.phases;
  }
};

// Builds StepWindows from marks taken on `clock` (KernelCapture::now_ns).
//   StepRecorder rec([&] { return capture.now_ns(); });
//   rec.begin_step(); rec.begin_phase(Phase::kForward); ... rec.begin_phase(Phase::kBackward);
//   ... rec.begin_phase(Phase::kOptimizerStep); ... StepWindow w = rec.end_step();
class StepRecorder {
 public:
  using Clock = std::function<uint64_t()>;
  explicit StepRecorder(Clock clock);

  void begin_step();            // starts a step (an unfinished one is discarded)
  void begin_phase(Phase phase);  // ends the open phase, if any, and opens this one
  void end_phase();             // ends the open phase
  StepWindow end_step();        // ends the open phase and the step

 private:
  Clock clock_;
  StepWindow current_;
  std::optional<PhaseSpan> open_;
};

}  // namespace p4s::cupti
