#include "sim/memory_backend.hpp"

#include <algorithm>

#include "sim/onednn_scratch.hpp"

namespace p4s::sim {
namespace {

using modelgen::Op;
using modelgen::TensorShape;

constexpr int64_t kFloatBytes = 4;

class PlainBackend : public MemoryBackend {
 public:
  std::string name() const override { return "plain"; }
  int64_t dropout_mask_bytes(int64_t) const override { return 1; }
};

class CudaBackend : public MemoryBackend {
 public:
  std::string name() const override { return "cuda"; }
  int64_t dropout_mask_bytes(int64_t) const override { return 1; }  // fused dropout's uint8/bool mask
};

// LibTorch's CPU kernels as observed with a tracking allocator (LibTorch 1.13, oneDNN 2.6):
// oneDNN convolutions work on channel-blocked copies of their tensors, padded to whole blocks,
// made and dropped around each call; batch norm's backward takes a temporary of its input's
// size; dropout draws a float noise tensor before multiplying.
class LibTorchCpuBackend : public MemoryBackend {
 public:
  LibTorchCpuBackend(int channel_block, int threads) : block_(std::max(1, channel_block)), threads_(threads) {}

  std::string name() const override {
    return "libtorch-cpu(block=" + std::to_string(block_) + ",threads=" + std::to_string(threads_) + ")";
  }
  int64_t dropout_mask_bytes(int64_t elem_bytes) const override { return elem_bytes; }
  bool wraps_scalars() const override { return true; }
  // Single samples and batches under 16 take other convolution paths (uses_onednn).
  std::vector<int64_t> batch_breakpoints() const override { return {2, 16}; }

  void forward(KernelScope& k, const OpCall& c) const override {
    switch (c.layer->op) {
      case Op::kConv2d:
        return uses_onednn(c) ? conv_forward(k, c) : native_conv_forward(k, c);
      case Op::kDropout:
        // noise = bernoulli(empty_like(x)); out = x * noise: the mask comes first.
        if (c.results.size() == 2) {
          k.result(1);
          k.result(0);
        }
        return;
      case Op::kDropPath:
        // noise = empty([N, 1, 1, 1]).bernoulli_(1 - p).div_(1 - p); out = x * noise.
        if (c.results.size() == 2) {
          k.result(0);
          if (c.layer->dropout().p < 1.0) with_wrapped_number(k, c.elem_bytes, [] {});
          k.result(1);
        }
        return;
      default:
        break;
    }
    MemoryBackend::forward(k, c);
  }

  void backward(KernelScope& k, const OpCall& c) const override {
    switch (c.layer->op) {
      case Op::kConv2d:
        return uses_onednn(c) ? conv_backward(k, c) : native_conv_backward(k, c);
      case Op::kBatchNorm2d: {
        MemoryBackend::backward(k, c);
        const int tmp = k.temp(c.inputs[0].numel() * c.batch * c.elem_bytes);
        k.release(tmp);
        return;
      }
      case Op::kAdaptiveAvgPool2d:
        if (c.layer->adaptive_pool().output_size == modelgen::Hw{1, 1} && !c.results.empty()) {
          // A 1x1 output is a mean, whose backward divides the gradient by the count.
          with_wrapped_number(k, c.elem_bytes, [&] { k.result(0); });
          return;
        }
        break;
      default:
        break;
    }
    MemoryBackend::backward(k, c);
  }

 private:
  int64_t pad(int64_t channels) const { return (channels + block_ - 1) / block_ * block_; }
  int64_t pad_to(int64_t channels, int64_t b) const { return (channels + b - 1) / b * b; }

  // at::_convolution's choice (LibTorch 1.13's use_mkldnn): oneDNN, except for 1x1 stride-1
  // convolutions of batches under 16 on one thread, and for small single-sample ones, which
  // take the native path (im2col columns and a GEMM).
  bool uses_onednn(const OpCall& c) const {
    if (c.elem_bytes != kFloatBytes && block_ < 16) return false;  // no bfloat16 oneDNN kernels
    const auto& a = c.layer->conv();
    const bool pointwise = a.kernel == modelgen::Hw{1, 1} && a.stride == modelgen::Hw{1, 1} &&
                           a.dilation == modelgen::Hw{1, 1};
    const bool not_small_pointwise = !pointwise || c.batch >= 16 || threads_ > 1;
    const bool big_enough = a.groups > 1 || (a.kernel.h > 3 && a.kernel.w > 3) || c.batch > 1 ||
                            c.batch * c.inputs[0].numel() > 20480;
    return not_small_pointwise && big_enough;
  }
  // The native path's im2col buffer, absent for 1x1 stride-1 unpadded convolutions.
  int64_t columns_bytes(const OpCall& c) const {
    const auto& a = c.layer->conv();
    if (a.kernel == modelgen::Hw{1, 1} && a.stride == modelgen::Hw{1, 1} && a.padding == modelgen::Hw{0, 0})
      return 0;
    return c.batch * (a.in_channels / a.groups) * a.kernel.h * a.kernel.w * spatial(c.shape->out) *
           c.elem_bytes;
  }
  void native_conv_forward(KernelScope& k, const OpCall& c) const {
    const int64_t cols = columns_bytes(c);
    const int t = cols > 0 ? k.temp(cols) : -1;
    k.result(0);
    if (t >= 0) k.release(t);
  }
  void native_conv_backward(KernelScope& k, const OpCall& c) const {
    size_t r = 0;
    if (c.input_needs_grad) k.result(r++);
    if (c.layer->conv().bias) k.result(r + 1);
    k.result(r);
    const int64_t cols = columns_bytes(c);
    if (cols > 0) k.release(k.temp(cols));
  }
  bool pointwise_stride1(const OpCall& c) const {
    const auto& a = c.layer->conv();
    return a.kernel == modelgen::Hw{1, 1} && a.stride == modelgen::Hw{1, 1} && a.padding == modelgen::Hw{0, 0} &&
           a.dilation == modelgen::Hw{1, 1};
  }
  // A strided unpadded 1x1 whose output is exactly its input divided by the stride.
  bool pointwise_reduced_stride(const OpCall& c) const {
    const auto& a = c.layer->conv();
    const TensorShape& in = c.inputs[0];
    const TensorShape& out = c.shape->out;
    return a.kernel == modelgen::Hw{1, 1} && a.padding == modelgen::Hw{0, 0} && a.dilation == modelgen::Hw{1, 1} &&
           !(a.stride == modelgen::Hw{1, 1}) && out.height * a.stride.h == in.height &&
           out.width * a.stride.w == in.width;
  }
  bool depthwise(const OpCall& c) const {
    const auto& a = c.layer->conv();
    return a.groups > 1 && a.groups == a.in_channels;
  }
  // oneDNN keeps a source of few channels (a network's first layer) in plain layout.
  bool blocked_source(const OpCall& c) const {
    return depthwise(c) || c.layer->conv().in_channels >= block_;
  }
  int64_t spatial(const TensorShape& s) const { return s.height * s.width; }
  int64_t weight_tmp(const OpCall& c, bool pad_in) const {
    const auto& a = c.layer->conv();
    const int64_t khw = a.kernel.h * a.kernel.w;
    if (depthwise(c)) return pad(a.out_channels) * khw * c.elem_bytes;
    const int64_t g = a.groups;
    const int64_t in = a.in_channels / g, out = a.out_channels / g;
    return g * pad(out) * (pad_in ? pad(in) : in) * khw * c.elem_bytes;
  }

  void conv_forward(KernelScope& k, const OpCall& c) const {
    const auto& a = c.layer->conv();
    const TensorShape& in = c.inputs[0];
    const TensorShape& out = c.shape->out;
    const bool blocked = blocked_source(c);
    const int src = blocked ? k.temp(c.batch * pad(a.in_channels) * spatial(in) * c.elem_bytes) : -1;
    const int w = k.temp(weight_tmp(c, blocked));
    const int dst = k.temp(c.batch * pad(a.out_channels) * spatial(out) * c.elem_bytes);
    k.release(w);
    if (src >= 0) k.release(src);
    k.result(0);  // the dense output, copied from oneDNN's blocked one
    k.release(dst);
  }

  void conv_backward(KernelScope& k, const OpCall& c) const {
    const auto& a = c.layer->conv();
    const TensorShape& in = c.inputs[0];
    const TensorShape& out = c.shape->out;
    const int64_t grad_out_blocked = c.batch * pad(a.out_channels) * spatial(out) * c.elem_bytes;
    size_t r = 0;
    if (c.input_needs_grad) {  // backward data
      const int go = k.temp(grad_out_blocked);
      const int w = k.temp(weight_tmp(c, true));
      const int gi = k.temp(c.batch * pad(a.in_channels) * spatial(in) * c.elem_bytes);
      k.release(w);
      k.release(go);
      k.result(r++);
      k.release(gi);
    }
    if (gemm_weight_gradient(c)) {
      // oneDNN's GEMM path: the weight and bias gradients in plain layout and a scratchpad of,
      // per thread that works on samples side by side, four times the weights (oneDNN books
      // the weights' bytes as floats) and one sample's im2col columns, each entry followed by
      // 128 bytes; as measured on AVX2 for channels in whole blocks (VGG-11-BN, one and two
      // threads). Other widths take a scratchpad this does not know yet.
      const int64_t plain = weight_tmp(c, false);
      const int gw = k.temp(plain);
      const int gb = a.bias ? k.temp(a.out_channels * c.elem_bytes) : -1;
      const int64_t taps = a.kernel.h * a.kernel.w;
      const int64_t columns = (a.in_channels / a.groups) * taps * spatial(out) * c.elem_bytes;
      const int64_t threads = onednn::gemm_backward_weights_threads(
          threads_, c.batch, a.groups, a.in_channels / a.groups, taps, spatial(out),
          c.batch * a.in_channels * spatial(in) * c.elem_bytes, plain,
          c.batch * a.out_channels * spatial(out) * c.elem_bytes);
      k.release(k.temp(threads * (4 * plain + columns) + 256));
      if (a.bias) k.result(r + 1);
      k.result(r);
      k.release(gw);
      if (gb >= 0) k.release(gb);
      return;
    }
    // Backward weights: blocked grad output and source; a source of very few channels stays
    // plain, one of fewer than a block is padded to half a block.
    const int go = k.temp(grad_out_blocked);
    int src = -1;
    bool pad_in = true;
    if (depthwise(c) || a.in_channels >= block_) {
      src = k.temp(c.batch * pad(a.in_channels) * spatial(in) * c.elem_bytes);
    } else if (a.in_channels > 4) {
      src = k.temp(c.batch * pad_to(a.in_channels, block_ / 2) * spatial(in) * c.elem_bytes);
    } else {
      pad_in = false;
    }
    const int gw = k.temp(pad_in ? weight_tmp_half(c) : weight_tmp(c, false));
    // With AVX2's 8-wide blocks: the kernel's scratchpad (onednn_scratch.hpp), then the plain
    // bias gradient. The scratchpad holds the bias gradient padded to whole blocks where the
    // channels fill none, a strided 1x1's copies of its strided pixels, and on several threads
    // the threads' reduction buffers. With AVX-512's 16-wide blocks the measured steps show one
    // bias buffer of whole blocks.
    int gb = -1;
    if (block_ == 8) {
      const int64_t scratch = avx2_backward_weights_scratch(c);
      const int s = scratch > 0 ? k.temp(scratch) : -1;
      if (a.bias) gb = k.temp(a.out_channels * c.elem_bytes);
      if (s >= 0) k.release(s);
    } else if (a.bias) {
      gb = k.temp(pad(a.out_channels) * c.elem_bytes);
    }
    if (src >= 0) k.release(src);
    k.release(go);
    if (a.bias) k.result(r + 1);
    k.result(r);
    k.release(gw);
    if (gb >= 0) k.release(gb);
  }

  // oneDNN 2.6 on AVX2 computes the weight gradient of a dense convolution whose output is
  // narrower than its kernel (a 3x3 at 2x2 or 1x1: VGG's last stages on CIFAR) with a GEMM
  // instead of its jit kernel; on AVX-512 the measured steps show the jit kernel's buffers.
  bool gemm_weight_gradient(const OpCall& c) const {
    const auto& a = c.layer->conv();
    return block_ == 8 && a.groups == 1 && c.shape->out.width < a.kernel.w && c.elem_bytes == kFloatBytes;
  }

  // The scratchpad of AVX2's jit weight gradients (onednn_scratch.hpp): the 1x1 kernel's (a
  // strided one on its reduced copy) and the direct kernel's, which grow with the threads; for
  // depthwise ones only the padded bias: oneDNN runs them on its GEMM path, whose columns and
  // weight buffers (per thread) this does not model yet, no measured peak having fallen there.
  int64_t avx2_backward_weights_scratch(const OpCall& c) const {
    const auto& a = c.layer->conv();
    if (depthwise(c)) return onednn::avx2_padded_bias_scratch_bytes(1, a.out_channels, a.bias);
    const bool strided = pointwise_reduced_stride(c);
    if (a.groups == 1 && (strided || pointwise_stride1(c)))
      return onednn::avx2_pointwise_backward_weights_scratch_bytes(1, a.in_channels, a.out_channels, c.batch,
                                                                   spatial(c.shape->out), a.bias, threads_, strided);
    return onednn::avx2_direct_backward_weights_scratch_bytes(a.groups, a.in_channels / a.groups,
                                                              a.out_channels / a.groups, c.batch,
                                                              a.kernel.h * a.kernel.w, a.bias, threads_);
  }

  // Weight gradient in oneDNN's layout: input channels padded like the source above.
  int64_t weight_tmp_half(const OpCall& c) const {
    const auto& a = c.layer->conv();
    if (depthwise(c) || a.in_channels / a.groups >= block_) return weight_tmp(c, true);
    const int64_t khw = a.kernel.h * a.kernel.w;
    const int64_t g = a.groups;
    return g * pad(a.out_channels / g) * pad_to(a.in_channels / g, block_ / 2) * khw * c.elem_bytes;
  }

  int64_t block_;
  int threads_;
};

}  // namespace

void MemoryBackend::forward(KernelScope& k, const OpCall& call) const {
  for (size_t i = 0; i < call.results.size(); ++i) k.result(i);
}

void MemoryBackend::backward(KernelScope& k, const OpCall& call) const {
  for (size_t i = 0; i < call.results.size(); ++i) k.result(i);
}

std::unique_ptr<MemoryBackend> make_plain_backend() { return std::make_unique<PlainBackend>(); }
std::unique_ptr<MemoryBackend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }
std::unique_ptr<MemoryBackend> make_libtorch_cpu_backend(int channel_block, int threads) {
  return std::make_unique<LibTorchCpuBackend>(channel_block, threads);
}

}  // namespace p4s::sim
