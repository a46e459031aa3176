// Simulation of the memory of one training step (forward, cross-entropy, zero_grad, backward,
// the optimizer's step, as a recipe says: results_format/recipe.hpp) on a NetSpec, tensor by
// tensor, as eager PyTorch runs it:
// which tensors autograd saves for backward, which storages in-place ops and views share, when
// each gradient is born and freed in the autograd engine's order, weights + gradients +
// momentum buffers, the loss. The result is the peak of live bytes and where it happens.
//
// What a framework's kernels allocate on the side (convolution workspaces, layout reorders)
// differs by backend; a Backend describes it (memory_backend.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "results_format/recipe.hpp"

namespace p4s::sim {

class MemoryBackend;

enum class Phase { kSetup, kForward, kLoss, kBackward, kOptimizer };
constexpr size_t kPhaseCount = 5;
const char* phase_name(Phase p);

// One allocation or release, in program order. `tensor` identifies the allocation, so that an
// allocator model can replay the sequence (caching_allocator.hpp).
struct MemoryEvent {
  int step = 0;       // 0: setup (model, batch), then 1, 2, ...: training steps, the last measured
  int tensor = 0;
  int64_t bytes = 0;  // as requested (before any allocator rounding)
  bool alloc = true;  // false: release
  Phase phase = Phase::kForward;
  int layer = -1;     // the layer being run, -1 outside layers (loss, optimizer)
};

// What runtime the step runs on, beyond its kernels' side allocations.
struct RuntimeOptions {
  // Steady state: the step after warm-up steps, with gradients (zeroed in place by zero_grad)
  // and momentum buffers already allocated. false: the very first step.
  bool steady_state = true;
  // Warm-up steps simulated before the measured one, from a fresh model (the first of them
  // allocates the gradients and momentum buffers). With 0 the measured step starts in the
  // state that steady_state says, without simulating how it got there. Only the measured
  // step's peak is reported; an allocator model replays all of them (record_events).
  int warmup_steps = 0;
  // Each allocation's size is rounded up to a multiple of this for the peak (CUDA's caching
  // allocator rounds to 512 bytes); 1 on the CPU.
  int64_t round_bytes = 1;
  // The autograd engine adds a second incoming gradient into the first in place when nothing
  // else shares the first (recent PyTorch); older versions always allocate the sum.
  bool inplace_grad_accumulation = false;
  // In-place ReLU6 (hardtanh_) saves a copy of its input for backward (LibTorch 1.13 does;
  // otherwise it keeps its result, as in-place ReLU does).
  bool relu6_inplace_copies_input = true;
  // Adaptive average pooling keeps its input alive until its backward, also for a 1x1 output
  // computed as a mean (observed with LibTorch 1.13).
  bool adaptive_pool_saves_input = true;
  // Keep every event (for allocator replay); off, only the peak and breakdown are kept.
  bool record_events = false;
};

struct MemorySimResult {
  int64_t peak_bytes = 0;        // peak of live bytes during the step, persistent included
  Phase peak_phase = Phase::kSetup;
  int peak_layer = -1;           // layer running at the peak (-1: loss or optimizer)
  int64_t persistent_bytes = 0;  // live before the step: weights, grads, momentum, BN state, batch
  int64_t weight_bytes = 0;      // parameters alone
  int64_t saved_bytes = 0;       // activation storages alive at the end of forward
  int64_t end_of_forward_bytes = 0;  // live bytes when the loss is computed
  // At the peak, its bytes by when they were allocated (indexed by Phase; they sum to
  // peak_bytes): kSetup for what was live before the step began (weights, gradients, momentum,
  // BN state, the batch), kForward for activations still held (mostly saved for backward),
  // kBackward for gradients and temporaries of the backward pass, and so on.
  std::array<int64_t, kPhaseCount> peak_by_phase{};
  std::vector<MemoryEvent> events;   // when RuntimeOptions::record_events
};

// Simulates one training step at `batch` following `recipe`: its optimizer's state and
// temporaries (optimizer_step.hpp); with train_from the frozen prefix, which holds no gradient
// or optimizer state and saves nothing for backward (the first trainable layer saves its input
// but computes no gradient of it); with bf16 or fp16, autocast over forward and loss:
// convolutions and linear layers cast their parameters (a trainable one's cast cached until
// the loss is computed, and saved for backward) and a float32 input to half precision, the
// ops after them compute in it, the logits are cast back for the loss, and each cast's
// backward makes a float32 gradient; parameters, gradients and optimizer state stay float32.
// `net` must be infer_shapes(spec). Throws InputError for a train_from that names no layer of
// `spec`. Precondition: batch >= 1.
MemorySimResult simulate_training_step(const modelgen::NetSpec& spec,
                                       const modelgen::ShapedNet& net, int64_t batch,
                                       const MemoryBackend& backend,
                                       const RuntimeOptions& options = {},
                                       const results::Recipe& recipe = results::default_recipe());

// The index of the first layer that trains under `recipe` (0 without train_from). Throws
// InputError naming the field for a name no layer of `spec` has.
size_t first_trainable_layer(const modelgen::NetSpec& spec, const results::Recipe& recipe);

}  // namespace p4s::sim
