// The caching allocator model against hand-worked sequences of PyTorch's rules, and on a
// simulated training step.
#include <gtest/gtest.h>

#include "modelgen/netspec_io.hpp"
#include "sim/caching_allocator.hpp"
#include "sim/memory_backend.hpp"
#include "sim/memory_sim.hpp"
#include "tests/tx2_netspecs.hpp"

namespace p4s::sim {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

// Events of one measured step (step 1) built by hand: {tensor, bytes, alloc}.
std::vector<MemoryEvent> step(std::initializer_list<std::tuple<int, int64_t, bool>> list, int s = 1) {
  std::vector<MemoryEvent> out;
  for (const auto& [t, b, a] : list) out.push_back(MemoryEvent{s, t, b, a, Phase::kForward, -1});
  return out;
}

TEST(CachingAllocator, SmallRequestsShareOneTwoMegabyteSegment) {
  const auto r = replay_caching_allocator(step({{1, 100, true}, {2, 1000, true}, {3, 600 * 1024, true}}));
  EXPECT_EQ(r.peak_reserved_bytes, 2 * kMiB);
  EXPECT_EQ(r.segments, 1);
  // 100 -> 512, 1000 -> 1024, 600 KiB exactly: blocks are split to their rounded size.
  EXPECT_EQ(r.peak_allocated_bytes, 512 + 1024 + 600 * 1024);
}

TEST(CachingAllocator, LargeRequestsTakeTwentyMegabyteOrRoundedSegments) {
  const auto a = replay_caching_allocator(step({{1, 5 * kMiB, true}}));
  EXPECT_EQ(a.peak_reserved_bytes, 20 * kMiB);
  EXPECT_EQ(a.peak_allocated_bytes, 5 * kMiB);  // split: 15 MiB remain cached
  const auto b = replay_caching_allocator(step({{1, 11 * kMiB + 1, true}}));
  EXPECT_EQ(b.peak_reserved_bytes, 12 * kMiB);  // rounded up to 2 MiB
  // 1 MiB - 511 bytes would remain: not more than 1 MiB, so the block is not split and the
  // whole segment counts as allocated.
  EXPECT_EQ(b.peak_allocated_bytes, 12 * kMiB);
}

TEST(CachingAllocator, FreedBlocksAreReusedAndMerged) {
  // Two 8 MiB tensors split one 20 MiB segment; freed, they merge with the rest, and a 19 MiB
  // request fits in the merged block without a new segment.
  const auto r = replay_caching_allocator(step({{1, 8 * kMiB, true}, {2, 8 * kMiB, true}, {1, 8 * kMiB, false},
                                                {2, 8 * kMiB, false}, {3, 19 * kMiB, true}}));
  EXPECT_EQ(r.peak_reserved_bytes, 20 * kMiB);
  EXPECT_EQ(r.segments, 1);
}

TEST(CachingAllocator, BestFitTakesTheSmallestFreeBlock) {
  // Free blocks of 12 and 30 MiB (two segments); a 10.5 MiB request takes the 12 MiB one.
  const auto r = replay_caching_allocator(step({{1, 12 * kMiB, true}, {2, 30 * kMiB, true}, {1, 12 * kMiB, false},
                                                {2, 30 * kMiB, false}, {3, 10 * kMiB + kMiB / 2, true}, {4, 29 * kMiB, true}}));
  EXPECT_EQ(r.peak_reserved_bytes, 42 * kMiB);
}

TEST(CachingAllocator, EmptyCacheBeforeTheMeasuredStepReleasesFreeSegments) {
  std::vector<MemoryEvent> ev = step({{1, 50 * kMiB, true}, {1, 50 * kMiB, false}}, 1);
  for (const MemoryEvent& e : step({{2, 4 * kMiB, true}}, 2)) ev.push_back(e);
  CachingAllocatorConfig keep;
  EXPECT_EQ(replay_caching_allocator(ev, keep).reserved_at_start_bytes, 50 * kMiB);
  CachingAllocatorConfig empty;
  empty.empty_cache_before_steps = true;
  const auto r = replay_caching_allocator(ev, empty);
  EXPECT_EQ(r.reserved_at_start_bytes, 0);
  // perf4sight's protocol resets the peak before emptying the cache: the peak keeps the
  // previous step's reservation.
  EXPECT_EQ(r.peak_reserved_bytes, 50 * kMiB);
}

TEST(CachingAllocator, RefusesMalformedEvents) {
  EXPECT_THROW(replay_caching_allocator(step({{1, 100, true}, {1, 100, true}})), std::invalid_argument);
  EXPECT_THROW(replay_caching_allocator(step({{1, 100, false}})), std::invalid_argument);
}

TEST(CachingAllocator, OnARealStepReservesAtLeastWhatIsAllocated) {
  const modelgen::NetSpec spec = modelgen::read_netspec(test::kTx2Dir + "/resnet18_50.json");
  const auto net = modelgen::infer_shapes(spec);
  const auto cuda = make_cuda_backend();
  RuntimeOptions o;
  o.warmup_steps = 1;
  o.record_events = true;
  RuntimeOptions rounded = o;
  rounded.round_bytes = 512;
  rounded.record_events = false;
  for (int64_t batch : {2, 32}) {
    const auto sim = simulate_training_step(spec, net, batch, *cuda, o);
    const auto r = replay_caching_allocator(sim.events);
    const int64_t sim_peak = simulate_training_step(spec, net, batch, *cuda, rounded).peak_bytes;
    EXPECT_GE(r.peak_reserved_bytes, r.peak_allocated_bytes);
    EXPECT_GE(r.peak_allocated_bytes, sim_peak);  // whole blocks count
    EXPECT_LT(r.peak_allocated_bytes, sim_peak * 11 / 10);
  }
}

}  // namespace
}  // namespace p4s::sim
