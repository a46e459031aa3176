// oneDNN's scratch memory for the CPU convolution kernels that depends on its thread count
// (x64, AVX2's kernels, f32), as its scratchpad registry books it: ideep takes each primitive's
// scratchpad from LibTorch's CPU allocator in one block, made before the kernel runs and
// dropped after it. Every entry of the block is followed by its alignment (128 bytes, a page
// for a reducer's space and for its threads' barriers). Measured alike on oneDNN 2.6
// (LibTorch 1.13) and 3.10 (LibTorch 2.11) with a tracking allocator
// (tests/bench/memory_sim_real_test, two threads).
#pragma once

#include <cstdint>

namespace p4s::sim::onednn {

// How oneDNN splits `njobs` reduction jobs of `job_size` elements over `nthr` threads: groups
// of threads, each group a share of the jobs, the threads of a group sharing the reduction of
// `reduction_size` steps (each with a private buffer of the group's jobs, summed at the end).
// Its balance minimises a thread's work (jobs times reduction steps, plus one step to sum when
// a group has several threads); a group of several threads holds at most what fits
// `max_buffer_elems` across the threads.
struct ReductionSplit {
  int64_t ngroups = 1;
  int64_t nthr_per_group = 1;
  int64_t njobs_per_group = 1;  // the most jobs a group takes
};
ReductionSplit split_reduction(int64_t nthr, int64_t job_size, int64_t njobs, int64_t reduction_size,
                               int64_t max_buffer_elems);

// The scratchpad of AVX2's 1x1 stride-1 weight gradient (oneDNN's jit_1x1:avx2 backward
// weights, channels in blocks of 8) on `threads` threads: the bias gradient padded to whole
// blocks where the output channels fill none, and where the threads share the reduction over
// the batch and the output's pixels, their private weight-gradient and bias-gradient buffers
// with their barriers. Channels per group; 0 where nothing is booked.
// A strided 1x1 kernel whose output is its input's size divided by the stride runs as the
// stride-1 one on a copy of the strided pixels (`strided` true): each thread keeps a copy of
// its blocks of input channels.
int64_t avx2_pointwise_backward_weights_scratch_bytes(int64_t groups, int64_t in_channels, int64_t out_channels,
                                                      int64_t batch, int64_t out_pixels, bool bias, int threads,
                                                      bool strided = false);

// The scratchpad of AVX2's direct weight gradient (oneDNN's jit:avx2 backward weights: 3x3,
// strided and other dense or grouped kernels) on `threads` threads: the padded bias gradient
// as above, and where the threads share the reduction over the batch, the bias-gradient and
// weight-gradient buffers of all but the first thread of each group, with their barriers.
// Channels per group; a source of 3 channels stays unblocked.
int64_t avx2_direct_backward_weights_scratch_bytes(int64_t groups, int64_t in_channels, int64_t out_channels,
                                                   int64_t batch, int64_t kernel_taps, bool bias, int threads);

// The scratchpad's padded bias gradient alone: where a bias has channels (per group) that fill
// no whole block of 8, oneDNN reduces it into one of whole blocks.
int64_t avx2_padded_bias_scratch_bytes(int64_t groups, int64_t out_channels, bool bias);

// The threads of oneDNN's GEMM weight gradient (x64:gemm:jit backward weights, blocked f32):
// each takes its own im2col columns and weight-gradient buffer where the batch (or groups)
// and the output's size let them work on samples side by side and the buffers stay within
// the scratchpad's limit (a GiB, and 15 times the tensors per thread); otherwise one thread's
// worth. `weight_bytes` of all groups, `columns_bytes` one sample's im2col of one group.
int64_t gemm_backward_weights_threads(int threads, int64_t batch, int64_t groups, int64_t in_channels_per_group,
                                      int64_t kernel_taps, int64_t out_pixels, int64_t src_bytes,
                                      int64_t weight_bytes, int64_t dst_bytes);

}  // namespace p4s::sim::onednn
