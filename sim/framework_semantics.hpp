// The framework's autograd semantics where its versions differ, as far as the memory of a
// training step sees them: what in-place ReLU6 and adaptive pooling keep for backward, and
// whether the engine accumulates a second gradient in place. A version is known when its
// steps were measured to the byte with a tracking allocator (tests/bench/memory_sim_real_test);
// for others the semantics of the nearest known version are the likely ones, which a fit
// tries first among the alternatives (predictors/p4s/runtime_candidates.hpp).
#pragma once

#include <optional>
#include <string>

#include "sim/memory_sim.hpp"

namespace p4s::sim {

struct FrameworkVersion {
  int major = 0;
  int minor = 0;
};

// "1.13.0", "2.11.0+cu130" (the bench's p4s_libtorch), "PyTorch 1.6.0" (perf4sight's data):
// the first "major.minor" in the text; nullopt when it has none.
std::optional<FrameworkVersion> parse_framework_version(const std::string& text);

struct AutogradSemantics {
  bool relu6_inplace_copies_input = true;
  bool adaptive_pool_saves_input = true;
  bool inplace_grad_accumulation = false;

  void apply_to(RuntimeOptions& options) const;
  bool operator==(const AutogradSemantics& o) const;
};

// The semantics measured to the byte for this version; nullopt where it was never measured.
std::optional<AutogradSemantics> measured_semantics(FrameworkVersion version);
// The measured semantics, else those of the nearest measured version (PyTorch 1.6's before
// 1.10, LibTorch 1.13's up to 1.x, 2.11's from 2.0 on).
AutogradSemantics likely_semantics(FrameworkVersion version);

}  // namespace p4s::sim
