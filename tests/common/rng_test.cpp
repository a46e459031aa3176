// The portable random source: fixed by the standard's engine and our own conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/rng.hpp"

namespace p4s {
namespace {

TEST(Rng, EngineIsTheStandardsMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64.
  Rng rng(5489u);
  uint64_t v = 0;
  for (int i = 0; i < 10000; ++i) v = rng.next();
  EXPECT_EQ(v, 9981545732273789042ull);
}

TEST(Rng, Uniform01IsTheTop53BitsOfOneOutput) {
  Rng rng(42);
  std::mt19937_64 engine(42);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform01();
    EXPECT_EQ(u, std::ldexp(static_cast<double>(engine() >> 11), -53));
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

TEST(Rng, BelowIsInRangeAndRoughlyUniform) {
  Rng rng(7);
  std::vector<int> counts(7, 0);
  const int draws = 70000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t r = rng.below(7);
    ASSERT_LT(r, 7u);
    ++counts[r];
  }
  for (const int c : counts) EXPECT_NEAR(c, draws / 7, 400);  // ~4.4 standard deviations
  EXPECT_EQ(rng.below(1), 0u);
  EXPECT_THROW(rng.below(0), std::invalid_argument);
}

TEST(Rng, StreamSeedsAreTheFirstOutputs) {
  std::mt19937_64 engine(99);
  const std::vector<uint64_t> seeds = stream_seeds(99, 5);
  ASSERT_EQ(seeds.size(), 5u);
  for (const uint64_t s : seeds) EXPECT_EQ(s, engine());
}

}  // namespace
}  // namespace p4s
