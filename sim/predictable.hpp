// How far predictions reach. The bytes of a training step's tensors grow with the batch, and
// the simulations count them in int64; a step far beyond any device (a thousand times the
// largest) means nothing to predict and could overflow those counts, so such batches are
// refused up front instead of predicted.
#pragma once

#include <cstdint>

#include "modelgen/shapes.hpp"

namespace p4s::sim {

// 2^50 bytes (1 PiB): predictions stay below this; int64 byte counts reach 2^63, so every sum
// a simulation makes of the step's tensors has thousands of times the headroom it needs.
inline constexpr double kMaxPredictableBytes = 1125899906842624.0;

// An upper bound, in bytes, on what one training step at `batch` holds at once: parameters
// with their gradients and momentum, buffers, and four float32 copies of every activation
// (output, its gradient, a saved copy, a workspace). In double, so it cannot overflow.
// Precondition: batch >= 1.
double step_bytes_bound(const modelgen::ShapedNet& net, int64_t batch);

// The largest batch at which step_bytes_bound stays within kMaxPredictableBytes (0 when even
// one sample does not).
int64_t max_predictable_batch(const modelgen::ShapedNet& net);

}  // namespace p4s::sim
