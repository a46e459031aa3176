// The simulated peak memory of a training step as a function of the batch size, cheap to
// evaluate. Every tensor of a step is either independent of the batch or proportional to it,
// so the live bytes after each allocation are a line in the batch size, and the peak is the
// upper envelope of those lines. Two simulations per range of batch sizes in which the
// backend runs the same kernels (MemoryBackend::batch_breakpoints), and a single sample apart,
// give all the lines.
#pragma once

#include <cstdint>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"

namespace p4s::sim {

class MemoryEnvelope {
 public:
  MemoryEnvelope(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net,
                 const MemoryBackend& backend, const RuntimeOptions& options,
                 const results::Recipe& recipe = results::default_recipe());

  // Peak live bytes of the step at `batch` (>= 1), as simulate_training_step's peak_bytes;
  // exact without allocation rounding, within the rounding of the live tensors with it.
  double peak_bytes(int64_t batch) const;
  // Live bytes before the step (weights, gradients, optimizer state, batch) at `batch`.
  double persistent_bytes(int64_t batch) const;

 private:
  struct Line {
    double at_start;   // live bytes at the range's first batch size
    double per_batch;  // growth per extra sample
  };
  struct Range {
    int64_t first = 1;
    int64_t last = INT64_MAX;
    std::vector<Line> hull;  // the lines that are the maximum somewhere in the range
    Line persistent;
  };
  std::vector<Range> ranges_;
};

}  // namespace p4s::sim
