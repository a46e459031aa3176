// What a framework's kernels allocate besides an op's own results: layout reorders,
// workspaces, scalar temporaries. The memory simulation (memory_sim.hpp) asks the backend to
// place each op's results among its side allocations, in the order the kernels make them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::sim {

// The simulator's side of one kernel call.
class KernelScope {
 public:
  virtual ~KernelScope() = default;
  // A side allocation of `bytes`; returns a handle for release().
  virtual int temp(int64_t bytes) = 0;
  virtual void release(int handle) = 0;
  // Allocates the op's result number `index` (see OpCall::results) at this point.
  virtual void result(size_t index) = 0;
};

// A tensor op with a number operand, as LibTorch runs it where its small tensors count (the
// CPU): the number wrapped as a 0-dim double tensor, then converted to the op's type
// (`elem_bytes`), both live while `inside` makes the op's result (nothing, for an op in place).
template <typename Inside>
void with_wrapped_number(KernelScope& k, int64_t elem_bytes, Inside&& inside) {
  const int wrapped = k.temp(8);
  const int cast = k.temp(elem_bytes);
  inside();
  k.release(cast);
  k.release(wrapped);
}

// One op's forward or backward kernel, as the simulator sees it.
struct OpCall {
  const modelgen::Layer* layer = nullptr;
  const modelgen::LayerShape* shape = nullptr;  // per-sample shapes, params
  std::vector<modelgen::TensorShape> inputs;    // per sample
  int64_t batch = 0;
  bool input_needs_grad = false;  // backward: whether grad input is computed
  // Bytes per element of the op's activations as it computes them: 4 (float32), or 2 under
  // bf16/fp16 autocast for the convolutions and linear layers it casts and every op after.
  int64_t elem_bytes = 4;
  // Sizes of the results this call must place with KernelScope::result(), in this order.
  // Forward: the output (when the op allocates one), then what it saves besides its inputs
  // (pooling indices, dropout mask, BN statistics). Backward: the input gradients that need
  // memory, then the weight gradient and the bias gradient.
  std::vector<int64_t> results;
};

class MemoryBackend {
 public:
  virtual ~MemoryBackend() = default;
  virtual std::string name() const = 0;
  // Bytes per element of the mask that training-mode dropout saves, for activations of
  // `elem_bytes` per element.
  virtual int64_t dropout_mask_bytes(int64_t elem_bytes) const = 0;
  // Places the results of a forward / backward call among the kernel's side allocations.
  // The default allocates the results in order and nothing else.
  virtual void forward(KernelScope& k, const OpCall& call) const;
  virtual void backward(KernelScope& k, const OpCall& call) const;
  // Whether a tensor op with a number operand allocates the number as tensors in the memory
  // simulated (optimizer_step.hpp): LibTorch on the CPU does; CUDA keeps them on the host.
  virtual bool wraps_scalars() const { return false; }
  // Batch sizes at which the backend switches kernels (sorted, each > 1): within the ranges
  // they delimit, every allocation of a step is the same and linear in the batch size.
  virtual std::vector<int64_t> batch_breakpoints() const { return {}; }
};

// Framework semantics only: no side allocations at all. CUDA-like dropout mask (1 byte).
std::unique_ptr<MemoryBackend> make_plain_backend();

// PyTorch on CUDA with cuDNN: no side allocations the simulation can know (workspaces depend
// on the algorithms cuDNN picks; a fitted term stands for them), 1-byte dropout masks.
std::unique_ptr<MemoryBackend> make_cuda_backend();

// LibTorch on the CPU (oneDNN convolutions): input, weight and output reorders around each
// convolution, dropout noise of the activations' type, scalar temporaries. `channel_block` is
// oneDNN's blocked layout width (16 with AVX-512, 8 with AVX2); `threads` LibTorch's intra-op
// thread count (with one thread, 1x1 stride-1 convolutions of small batches skip oneDNN; on
// several, AVX2's weight-gradient kernels book reduction buffers per thread,
// onednn_scratch.hpp).
// bfloat16 convolutions take oneDNN only where the CPU has AVX-512 (LibTorch 1.13's
// mkldnn_bf16_device_check); otherwise the native path, im2col columns in bfloat16 (checked
// to the byte on AVX2). The AVX-512 bfloat16 path is modelled as the float32 one with 2-byte
// elements, not yet checked against a measurement.
std::unique_ptr<MemoryBackend> make_libtorch_cpu_backend(int channel_block, int threads);

}  // namespace p4s::sim
