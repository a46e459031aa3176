// The end-to-end GPU check (selftest.hpp). Always built; skipped, with the reason, where
// kernel capture is off (no GPU, driver or CUPTI), and run for real where it is on.
#include <gtest/gtest.h>

#include "cupti/selftest.hpp"

namespace p4s::cupti {
namespace {

TEST(GpuSelftest, CapturesKernelsCopiesMemsetsAndMemoryOnARealGpu) {
  const SelftestReport r = run_cupti_selftest();
  if (!r.ran) GTEST_SKIP() << r.availability_line;
  for (const std::string& c : r.checks) std::printf("ok:   %s\n", c.c_str());
  for (const std::string& f : r.failures) ADD_FAILURE() << f;
  EXPECT_TRUE(r.passed());
  EXPECT_GT(r.counters.at("kernels"), 0.0);
}

}  // namespace
}  // namespace p4s::cupti
