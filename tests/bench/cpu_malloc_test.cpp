// glibc's malloc settings for the sweep. Each test runs in a process of its own (ctest runs
// every test alone), since the settings last for the process.
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "bench/cpu_malloc.hpp"
#include "bench/mem_used.hpp"

namespace p4s::bench {
namespace {

constexpr size_t kBlock = 96u << 20;  // beyond glibc's largest adaptive mmap threshold (32 MiB)

// Called through volatile pointers, so that the compiler cannot elide the block.
void* (*volatile allocate)(size_t) = std::malloc;
void (*volatile release)(void*) = std::free;

// Resident bytes gained by allocating and touching a block, and still held once it is freed.
int64_t resident_after_free() {
  const int64_t before = read_resident_memory().rss_bytes;
  void* p = allocate(kBlock);
  EXPECT_NE(p, nullptr);
  std::memset(p, 1, kBlock);
  release(p);
  return read_resident_memory().rss_bytes - before;
}

TEST(CpuMalloc, SteadyKeepsFreedMemoryUntilTheHeapIsTrimmed) {
  EXPECT_EQ(configure_cpu_malloc(true).rfind("steady: ", 0), 0u);
  // Freed, the block stays in the heap: the next step reuses its pages without faulting.
  EXPECT_GT(resident_after_free(), static_cast<int64_t>(kBlock / 2));
  const int64_t held = read_resident_memory().rss_bytes;
  malloc_trim(0);  // what the memory meter does before each case is built
  EXPECT_LT(read_resident_memory().rss_bytes, held - static_cast<int64_t>(kBlock / 2));
}

TEST(CpuMalloc, SystemReturnsALargeFreedBlockAtOnce) {
  EXPECT_EQ(configure_cpu_malloc(false).rfind("system: ", 0), 0u);
  EXPECT_LT(resident_after_free(), static_cast<int64_t>(kBlock / 2));
}

}  // namespace
}  // namespace p4s::bench
