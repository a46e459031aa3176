#include "sim/onednn_scratch.hpp"

#include <algorithm>

namespace p4s::sim::onednn {
namespace {

constexpr int64_t kFloatBytes = 4;
constexpr int64_t kBlock = 8;            // AVX2's channel block
constexpr int64_t kAlignment = 128;      // the registry's default alignment, after each entry
constexpr int64_t kPage = 4096;          // a reducer's space and a barrier context's alignment
constexpr int64_t kBarrierBytes = 4096;  // one barrier context (page-aligned on Linux)

int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

// A registry entry: its bytes and the alignment that follows them; nothing when empty.
int64_t entry(int64_t bytes, int64_t alignment) { return bytes > 0 ? bytes + alignment : 0; }

// A reducer's blocking factor: the channel blocks a job spans, halved or thirded while above
// `limit` and divisible.
int64_t blocking(int64_t blocks, int64_t limit) {
  while (blocks > limit) {
    if (blocks % 2 == 0)
      blocks /= 2;
    else if (blocks % 3 == 0)
      blocks /= 3;
    else
      break;
  }
  return blocks;
}

// The bookings of a reducer whose groups of threads keep private buffers: `private_buffers`
// per group, each of the group's jobs, its space page-aligned or not, and a barrier per group.
int64_t reducer_bytes(const ReductionSplit& s, int64_t job_size, int64_t private_buffers, int64_t space_alignment) {
  if (s.nthr_per_group == 1) return 0;
  const int64_t space = s.ngroups * private_buffers * s.njobs_per_group * job_size * kFloatBytes;
  return entry(space, space_alignment) + entry(s.ngroups * kBarrierBytes, kPage);
}

}  // namespace

ReductionSplit split_reduction(int64_t nthr, int64_t job_size, int64_t njobs, int64_t reduction_size,
                               int64_t max_buffer_elems) {
  const int64_t min_jobs = std::max<int64_t>(1, njobs / nthr);
  const int64_t max_jobs = std::max<int64_t>(1, max_buffer_elems / (nthr * job_size));
  ReductionSplit best;
  best.ngroups = std::min(njobs / min_jobs, nthr);
  best.nthr_per_group = std::min(nthr / best.ngroups, reduction_size);
  best.njobs_per_group = div_up(njobs, best.ngroups);
  int64_t best_work = njobs * job_size * reduction_size;
  for (int64_t jobs = min_jobs; jobs < njobs; ++jobs) {
    ReductionSplit s;
    s.ngroups = std::min(njobs / jobs, nthr);
    s.nthr_per_group = std::min(nthr / s.ngroups, reduction_size);
    s.njobs_per_group = div_up(njobs, s.ngroups);
    if (s.nthr_per_group > 1 && s.njobs_per_group > max_jobs) continue;
    const int64_t work =
        job_size * s.njobs_per_group * (div_up(reduction_size, s.nthr_per_group) + (s.nthr_per_group != 1 ? 1 : 0));
    if (work < best_work) {
      best = s;
      best_work = work;
    }
  }
  return best;
}

int64_t avx2_padded_bias_scratch_bytes(int64_t groups, int64_t out_channels, bool bias) {
  if (!bias || out_channels % kBlock == 0) return 0;
  return entry(groups * div_up(out_channels, kBlock) * kBlock * kFloatBytes, kAlignment);
}

int64_t avx2_direct_backward_weights_scratch_bytes(int64_t groups, int64_t in_channels, int64_t out_channels,
                                                   int64_t batch, int64_t kernel_taps, bool bias, int threads) {
  int64_t bytes = avx2_padded_bias_scratch_bytes(groups, out_channels, bias);
  if (threads <= 1) return bytes;
  const int64_t ic_block = in_channels == 3 ? 3 : kBlock;
  const int64_t oc_blocks = div_up(out_channels, kBlock), ic_blocks = div_up(in_channels, ic_block);
  constexpr int64_t kMaxBuffer = int64_t{1} << 21;
  if (bias) {
    const ReductionSplit b = split_reduction(threads, kBlock, groups * oc_blocks, batch, kMaxBuffer);
    bytes += reducer_bytes(b, kBlock, b.nthr_per_group - 1, kPage);
  }
  const int64_t job_size = kernel_taps * ic_block * kBlock;
  const ReductionSplit w = split_reduction(threads, job_size, groups * ic_blocks * oc_blocks, batch, kMaxBuffer);
  bytes += reducer_bytes(w, job_size, w.nthr_per_group - 1, kPage);
  return bytes;
}

int64_t avx2_pointwise_backward_weights_scratch_bytes(int64_t groups, int64_t in_channels, int64_t out_channels,
                                                      int64_t batch, int64_t out_pixels, bool bias, int threads,
                                                      bool strided) {
  int64_t bytes = avx2_padded_bias_scratch_bytes(groups, out_channels, bias);
  const int64_t oc_blocks = div_up(out_channels, kBlock), ic_blocks = div_up(in_channels, kBlock);
  const int64_t oc_blocking = blocking(oc_blocks, 32), ic_blocking = blocking(ic_blocks, 9);
  if (strided) bytes += entry(threads * ic_blocking * out_pixels * kBlock * kFloatBytes, kAlignment);
  if (threads <= 1) return bytes;
  const int64_t job_size = oc_blocking * ic_blocking * kBlock * kBlock;
  const int64_t njobs = groups * div_up(oc_blocks, oc_blocking) * div_up(ic_blocks, ic_blocking);
  const int64_t max_buffer = threads * job_size * 8;
  if (bias) {
    // Jobs of one channel block over the batch; a group's first thread writes in place.
    const ReductionSplit b = split_reduction(threads, kBlock, groups * oc_blocks, batch, max_buffer);
    bytes += reducer_bytes(b, kBlock, b.nthr_per_group - 1, kPage);
  }
  const ReductionSplit w = split_reduction(threads, job_size, njobs, batch * out_pixels, max_buffer);
  bytes += reducer_bytes(w, job_size, w.nthr_per_group, kAlignment);
  return bytes;
}

int64_t gemm_backward_weights_threads(int threads, int64_t batch, int64_t groups, int64_t in_channels_per_group,
                                      int64_t kernel_taps, int64_t out_pixels, int64_t src_bytes,
                                      int64_t weight_bytes, int64_t dst_bytes) {
  if (threads <= 1) return 1;
  const int64_t limit = std::min<int64_t>(int64_t{1} << 30, 15 * threads * (src_bytes + weight_bytes + dst_bytes));
  const int64_t estimate =
      kFloatBytes * threads * weight_bytes + kFloatBytes * threads * in_channels_per_group * kernel_taps * kBlock;
  const bool side_by_side = estimate < limit && out_pixels / threads < 256 && (batch != 1 || groups > 2);
  return side_by_side ? threads : 1;
}

}  // namespace p4s::sim::onednn
