#include "sim/onednn_scratch.hpp"

#include <gtest/gtest.h>

namespace p4s::sim::onednn {
namespace {

// The scratchpads below are the blocks LibTorch's CPU allocator gave oneDNN for these kernels
// in training steps of pruned SqueezeNet, DenseNet, RegNetY, ConvNeXt and VGG-11-BN on one
// and two threads (AVX2; LibTorch 1.13 and 2.11 alike; ONEDNN_VERBOSE named the kernel and its
// shapes).

TEST(SplitReduction, TakesTheSplitWithTheLeastWorkPerThread) {
  // One job: both threads share its reduction.
  ReductionSplit s = split_reduction(2, 200000, 1, 169, 2 * 200000 * 8);
  EXPECT_EQ(s.ngroups, 1);
  EXPECT_EQ(s.nthr_per_group, 2);
  EXPECT_EQ(s.njobs_per_group, 1);
  // Three jobs of a long reduction: sharing all three beats two groups of up to two jobs.
  s = split_reduction(2, 138432, 3, 256, 2 * 138432 * 8);
  EXPECT_EQ(s.ngroups, 1);
  EXPECT_EQ(s.nthr_per_group, 2);
  EXPECT_EQ(s.njobs_per_group, 3);
  // Eight short jobs: a group per thread, four jobs each, nothing shared.
  s = split_reduction(2, 1216, 8, 1024, 2 * 1216 * 8);
  EXPECT_EQ(s.ngroups, 2);
  EXPECT_EQ(s.nthr_per_group, 1);
  EXPECT_EQ(s.njobs_per_group, 4);
  // One thread: one group, whatever the jobs.
  s = split_reduction(1, 64, 5, 100, 64 * 8);
  EXPECT_EQ(s.ngroups, 1);
  EXPECT_EQ(s.nthr_per_group, 1);
}

TEST(PointwiseBackwardWeights, TwoThreadsBookTheirReductionBuffersAsMeasured) {
  const auto bytes = [](int64_t in, int64_t out, int64_t batch, int64_t pixels, bool bias) {
    return avx2_pointwise_backward_weights_scratch_bytes(1, in, out, batch, pixels, bias, 2);
  };
  EXPECT_EQ(bytes(199, 1000, 1, 13 * 13, true), 1608320);  // SqueezeNet's classifier
  EXPECT_EQ(bytes(199, 1000, 4, 13 * 13, true), 1608320);
  EXPECT_EQ(bytes(531, 72, 2, 4 * 4, false), 317056);      // DenseNet's bottleneck
  EXPECT_EQ(bytes(440, 53, 9, 4 * 4, false), 205440);      // RegNetY
  EXPECT_EQ(bytes(440, 160, 2, 4 * 4, false), 571520);
  EXPECT_EQ(bytes(440, 78, 9, 1, true), 290368);         // its squeeze-excitation: all three
  EXPECT_EQ(bytes(97, 22, 1, 27 * 27, true), 28512);      // SqueezeNet's squeeze: bias alone
  EXPECT_EQ(bytes(23, 106, 4, 13 * 13, true), 30400);
  EXPECT_EQ(bytes(2471, 168, 16, 4 * 4, true), 3330688);   // ConvNeXt's inverted bottleneck
  EXPECT_EQ(bytes(1213, 3, 16, 8 * 8, true), 12480);       // the bias reducer, no weight buffers
  EXPECT_EQ(bytes(1234, 3, 16, 8 * 8, true), 100160);      // both
}

TEST(PointwiseBackwardWeights, StridedOnesKeepACopyOfTheStridedPixelsPerThread) {
  // RegNetY's stride-2 shortcut projections, pruned, on one and on two threads.
  const auto bytes = [](int64_t in, int64_t out, int64_t batch, int64_t pixels, int threads) {
    return avx2_pointwise_backward_weights_scratch_bytes(1, in, out, batch, pixels, false, threads, true);
  };
  EXPECT_EQ(bytes(32, 57, 2, 16 * 16, 1), 32896);
  EXPECT_EQ(bytes(73, 160, 2, 4 * 4, 1), 2688);
  EXPECT_EQ(bytes(35, 20, 9, 8 * 8, 1), 10368);
  EXPECT_EQ(bytes(32, 57, 2, 16 * 16, 2), 90368);
  EXPECT_EQ(bytes(57, 73, 2, 8 * 8, 2), 82176);
  EXPECT_EQ(bytes(20, 53, 9, 4 * 4, 2), 22272);
}

TEST(PointwiseBackwardWeights, OneThreadBooksThePaddedBiasAlone) {
  EXPECT_EQ(avx2_pointwise_backward_weights_scratch_bytes(1, 1213, 3, 16, 64, true, 1), 160);
  EXPECT_EQ(avx2_pointwise_backward_weights_scratch_bytes(1, 199, 1000, 4, 169, true, 1), 0);
  EXPECT_EQ(avx2_pointwise_backward_weights_scratch_bytes(1, 199, 1001, 4, 169, false, 1), 0);
  EXPECT_EQ(avx2_padded_bias_scratch_bytes(1, 1214, true), 1216 * 4 + 128);
  EXPECT_EQ(avx2_padded_bias_scratch_bytes(1, 1216, true), 0);
  EXPECT_EQ(avx2_padded_bias_scratch_bytes(2, 3, true), 2 * 8 * 4 + 128);
}

TEST(DirectBackwardWeights, TwoThreadsShareTheReductionWhereJobsAreFew) {
  // ConvNeXt's 2x2 stride-2 downsampling, pruned: the bias reducer alone, then both.
  EXPECT_EQ(avx2_direct_backward_weights_scratch_bytes(1, 14, 40, 16, 4, true, 2), 12448);
  EXPECT_EQ(avx2_direct_backward_weights_scratch_bytes(1, 40, 3, 16, 4, true, 2), 29888);
  EXPECT_EQ(avx2_direct_backward_weights_scratch_bytes(1, 40, 3, 2, 4, true, 2), 12480);
  // One thread: the padded bias alone.
  EXPECT_EQ(avx2_direct_backward_weights_scratch_bytes(1, 40, 3, 16, 4, true, 1), 160);
  EXPECT_EQ(avx2_direct_backward_weights_scratch_bytes(1, 14, 40, 16, 4, true, 1), 0);
}

TEST(GemmBackwardWeights, ThreadsWorkOnSamplesSideBySideWhereTheyCan) {
  // VGG-11-BN's last 3x3 at 2x2, 512 channels: two threads at batch 2, one at batch 1.
  const int64_t w = 512 * 512 * 9 * 4;
  const auto threads = [&](int t, int64_t batch) {
    return gemm_backward_weights_threads(t, batch, 1, 512, 9, 4, batch * 512 * 4 * 4, w, batch * 512 * 4 * 4);
  };
  EXPECT_EQ(threads(2, 2), 2);
  EXPECT_EQ(threads(2, 1), 1);
  EXPECT_EQ(threads(1, 2), 1);
  // Grouped (more than two groups): side by side even for one sample.
  EXPECT_EQ(gemm_backward_weights_threads(2, 1, 64, 1, 49, 16, 64 * 16 * 4, 64 * 49 * 4, 64 * 16 * 4), 2);
  // A large output: the threads share each sample instead.
  EXPECT_EQ(gemm_backward_weights_threads(2, 2, 1, 64, 9, 32 * 32, 2 * 64 * 1024 * 4, 64 * 64 * 9 * 4,
                                          2 * 64 * 1024 * 4),
            1);
  // Buffers beyond the scratchpad's limit of a GiB: one thread's worth.
  const int64_t huge = int64_t{200} << 20;
  EXPECT_EQ(gemm_backward_weights_threads(2, 2, 1, 4096, 9, 4, huge, huge, huge), 1);
}

}  // namespace
}  // namespace p4s::sim::onednn
