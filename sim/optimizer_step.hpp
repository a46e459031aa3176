// What an optimizer holds per parameter and allocates while it steps, by its implementation
// (results::OptimizerImpl). LibTorch's C++ optimizers (the bench's training step), tensor by
// tensor:
//   SGD:   d_p = grad + weight_decay * p (a new tensor, where weight decay is on); with
//          momentum, a buffer per parameter (born in the first step as a clone of d_p,
//          updated in place after); with nesterov, d_p + momentum * buf, a second new tensor.
//   Adam:  exp_avg and exp_avg_sq per parameter (zeros, born in the first step); grad +
//          weight_decay * p where weight decay is on; sqrt(exp_avg_sq) and its quotient by the
//          bias correction, two more tensors, while the denominator is made.
//   AdamW: Adam without the decayed gradient (p is decayed in place), the same denominator.
// The parameter itself is updated in place by every one. PyTorch's Python optimizers, as
// observed with a tracking allocator (PyTorch 2.x on the CPU):
//   for-loop (foreach=False): the same temporaries, one parameter at a time; Adam's state is
//          made for every parameter before the first update, with a 4-byte step tensor each.
//   foreach: each temporary is a list over every parameter at once: SGD's decayed gradients
//          (momentum and nesterov work in place); Adam's decayed gradients, freed before the
//          list of square roots that becomes the denominator; AdamW the square roots alone.
//   fused: no parameter-sized temporaries at all; the state as above.
// Python's step tensors and wrapped numbers live on the host unless fused (then on the device).
#pragma once

#include <cstdint>
#include <vector>

#include "results_format/recipe.hpp"
#include "sim/memory_backend.hpp"

namespace p4s::sim {

// Parameter-sized tensors the optimizer keeps per trainable parameter between steps.
int state_tensors_per_param(const results::Recipe& recipe);
// Bytes of the small tensors it keeps per parameter besides (Python Adam's step counter), where
// they are in the memory simulated (`host_counted`: the host's memory is, as on the CPU).
int64_t state_scalar_bytes(const results::Recipe& recipe, bool host_counted);

// One parameter's update (`param_bytes`: its size): what it allocates and frees, in order, in
// `k`. `first`: the optimizer's first step, whose state is born in it (and stays).
// `wrapped_scalars`: a tensor op with a number operand (buf.mul_(momentum), exp_avg.mul_(beta1),
// the division by the bias correction, add_(eps), AdamW's decay) wraps it in a 0-dim double
// tensor and copies that to float32, 8 and 4 bytes for the op's duration (LibTorch on the CPU,
// where those tensors live in the memory measured; CUDA's stay on the host).
void optimizer_param_step(KernelScope& k, int64_t param_bytes, bool first, const results::Recipe& recipe,
                          bool wrapped_scalars = false);

// The whole update of the trainable parameters (`params`: their sizes, in the optimizer's
// order) as the recipe's implementation runs it; `wrapped_scalars` also says whether host
// tensors (Python's step counters) are in the memory simulated.
void optimizer_step(KernelScope& k, const std::vector<int64_t>& params, bool first, const results::Recipe& recipe,
                    bool wrapped_scalars = false);

}  // namespace p4s::sim
