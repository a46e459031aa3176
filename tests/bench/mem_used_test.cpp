// Resident memory: parsing /proc/self/status text, reading it, and resetting the peak.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bench/mem_used.hpp"

namespace p4s::bench {
namespace {

TEST(ProcStatus, ParsesRssAndPeakInBytes) {
  const std::string text =
      "Name:\tbench\nVmPeak:\t  900000 kB\nVmHWM:\t    2196 kB\nVmRSS:\t    1024 kB\nThreads:\t2\n";
  const std::optional<ResidentMemory> m = parse_proc_status(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rss_bytes, 1024 * 1024);
  EXPECT_EQ(m->peak_bytes, 2196 * 1024);
}

TEST(ProcStatus, MissingOrMalformedFieldsGiveNothing) {
  EXPECT_FALSE(parse_proc_status("VmRSS:\t1024 kB\n"));
  EXPECT_FALSE(parse_proc_status("VmHWM:\t1024 kB\nVmRSS:\tlots\n"));
  EXPECT_FALSE(parse_proc_status("VmHWM:\t1024 kB\nVmRSS:\t1024 MB\n"));
  EXPECT_FALSE(parse_proc_status(""));
  // A key must start its line.
  EXPECT_FALSE(parse_proc_status("XVmHWM:\t1 kB\nXVmRSS:\t1 kB\n"));
}

TEST(ResidentMemory, ReadsThisProcess) {
  const ResidentMemory m = read_resident_memory();
  EXPECT_GT(m.rss_bytes, 0);
  EXPECT_GE(m.peak_bytes, m.rss_bytes);
}

TEST(ResidentMemory, ResetBringsThePeakDownToTheCurrentLevel) {
  if (const std::string error = reset_peak_resident(); !error.empty())
    GTEST_SKIP() << "/proc/self/clear_refs: " << error;
  {
    std::vector<char> block(64 << 20);
    std::memset(block.data(), 1, block.size());  // make it resident
    EXPECT_GE(read_resident_memory().peak_bytes, int64_t{64} << 20);
  }
  ASSERT_EQ(reset_peak_resident(), "");
  const ResidentMemory m = read_resident_memory();
  EXPECT_LT(m.peak_bytes - m.rss_bytes, int64_t{32} << 20);
}

}  // namespace
}  // namespace p4s::bench
