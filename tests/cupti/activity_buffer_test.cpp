// The buffer pool on its own: alignment, the cap, completion from other threads, and the
// callbacks' error paths (recorded, never thrown).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "cupti/activity_buffer.hpp"

namespace p4s::cupti {
namespace {

TEST(ActivityBuffer, IsAlignedAndRoundsItsCapacityUp) {
  for (size_t n : {1u, 7u, 8u, 100u, 4096u}) {
    ActivityBuffer b(n);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kActivityBufferAlignment, 0u) << n;
    EXPECT_GE(b.capacity(), n);
    EXPECT_EQ(b.capacity() % kActivityBufferAlignment, 0u);
    EXPECT_EQ(b.valid_bytes(), 0u);
  }
  ActivityBuffer b(64);
  b.set_valid_bytes(1000);  // never more than it holds
  EXPECT_EQ(b.valid_bytes(), 64u);
}

TEST(ActivityBufferPool, LendsAlignedBuffersOfTheConfiguredSize) {
  ActivityBufferPool pool({1000, 4});
  uint8_t* p = nullptr;
  size_t size = 0, max_records = 99;
  pool.on_buffer_requested(&p, &size, &max_records);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u);
  EXPECT_EQ(size, 1000u);  // already a multiple of 8
  EXPECT_EQ(max_records, 0u);  // "fill it"
  EXPECT_EQ(pool.in_flight(), 1u);
  pool.on_buffer_completed(p, size, 128);
  EXPECT_EQ(pool.in_flight(), 0u);
  std::vector<ActivityBuffer> done = pool.take_completed();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data(), p);
  EXPECT_EQ(done[0].valid_bytes(), 128u);
  EXPECT_TRUE(pool.take_completed().empty());
  EXPECT_TRUE(pool.take_errors().empty());
}

TEST(ActivityBufferPool, DeclinesAtTheCapCountingLentAndUntakenBuffers) {
  ActivityBufferPool pool({256, 2});
  uint8_t* a = nullptr;
  uint8_t* b = nullptr;
  uint8_t* c = nullptr;
  size_t size = 0, max = 0;
  pool.on_buffer_requested(&a, &size, &max);
  pool.on_buffer_requested(&b, &size, &max);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  pool.on_buffer_completed(a, 256, 8);  // completed but not taken: still counts
  pool.on_buffer_requested(&c, &size, &max);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(size, 0u);
  EXPECT_EQ(pool.declined_requests(), 1u);
  const std::vector<std::string> errors = pool.take_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("cap reached"), std::string::npos) << errors[0];

  EXPECT_EQ(pool.take_completed().size(), 1u);  // taking frees a slot
  pool.on_buffer_requested(&c, &size, &max);
  EXPECT_NE(c, nullptr);
}

TEST(ActivityBufferPool, ReleasesEmptyBuffersAndRecordsUnknownOnes) {
  ActivityBufferPool pool({64, 4});
  uint8_t* p = nullptr;
  size_t size = 0, max = 0;
  pool.on_buffer_requested(&p, &size, &max);
  pool.on_buffer_completed(p, size, 0);  // nothing recorded: released at once
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_EQ(pool.completed(), 0u);

  alignas(8) uint8_t foreign[64];
  pool.on_buffer_completed(foreign, sizeof foreign, 64);  // must not be freed nor kept
  EXPECT_EQ(pool.completed(), 0u);
  const std::vector<std::string> errors = pool.take_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("did not lend"), std::string::npos) << errors[0];
}

TEST(ActivityBufferPool, NullOutputPointersAreIgnored) {
  ActivityBufferPool pool({64, 1});
  pool.on_buffer_requested(nullptr, nullptr, nullptr);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(ActivityBufferPool, KeepsAFewErrorsThenCountsTheRest) {
  ActivityBufferPool pool({64, 1});
  alignas(8) uint8_t foreign[8];
  for (int i = 0; i < 40; ++i) pool.on_buffer_completed(foreign, 8, 8);
  const std::vector<std::string> errors = pool.take_errors();
  ASSERT_EQ(errors.size(), 17u);  // 16 kept, then one line with the count
  EXPECT_NE(errors.back().find("24 more"), std::string::npos) << errors.back();
  EXPECT_TRUE(pool.take_errors().empty());
}

TEST(ActivityBufferPool, AbandonsBuffersStillLentAtTeardown) {
  uint8_t* a = nullptr;
  uint8_t* b = nullptr;
  {
    ActivityBufferPool pool({64, 4});
    size_t size = 0, max = 0;
    pool.on_buffer_requested(&a, &size, &max);
    pool.on_buffer_requested(&b, &size, &max);
    EXPECT_EQ(pool.abandon_in_flight(), 2u);
    EXPECT_EQ(pool.in_flight(), 0u);
  }
  // The pool gave them up: CUPTI (here, the test) may still use them, and frees them.
  a[0] = b[0] = 1;
  std::free(a);
  std::free(b);
}

TEST(ActivityBufferPool, BuffersCompletedOnOtherThreadsAllArriveOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  ActivityBufferPool pool({64, 16});
  std::atomic<int> declined{0};
  std::vector<std::thread> producers;
  std::vector<std::vector<uint64_t>> tags(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread;) {
        uint8_t* p = nullptr;
        size_t size = 0, max = 0;
        pool.on_buffer_requested(&p, &size, &max);
        if (p == nullptr) {  // at the cap: wait for the consumer, as CUPTI would drop
          ++declined;
          std::this_thread::yield();
          continue;
        }
        const uint64_t tag = static_cast<uint64_t>(t) * 1000000u + static_cast<uint64_t>(i);
        std::memcpy(p, &tag, sizeof tag);
        pool.on_buffer_completed(p, size, sizeof tag);
        ++i;
      }
    });
  }
  std::multiset<uint64_t> seen;
  auto drain = [&] {
    for (const ActivityBuffer& b : pool.take_completed()) {
      uint64_t tag = 0;
      ASSERT_EQ(b.valid_bytes(), sizeof tag);
      std::memcpy(&tag, b.data(), sizeof tag);
      seen.insert(tag);
    }
  };
  while (seen.size() < static_cast<size_t>(kThreads * kPerThread)) {
    drain();
    std::this_thread::yield();
  }
  for (std::thread& t : producers) t.join();
  drain();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_EQ(seen.count(static_cast<uint64_t>(t) * 1000000u + static_cast<uint64_t>(i)), 1u);
    }
  }
  EXPECT_EQ(pool.in_flight(), 0u);
  EXPECT_EQ(pool.declined_requests(), static_cast<uint64_t>(declined.load()));
}

}  // namespace
}  // namespace p4s::cupti
