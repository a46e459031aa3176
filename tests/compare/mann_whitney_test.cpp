// The Mann-Whitney U test against values known from elsewhere, and against brute force.
//
// Where the reference values come from:
//   - SciPy's documentation of scipy.stats.mannwhitneyu (its example of ages of men and women,
//     Conover's data): U = 17; method="exact" p = 0.1111111 (= 14/126), method="asymptotic"
//     p = 0.11134688653314041.
//   - Worked by hand below (ranks, tie term, z, p = erfc(z / sqrt 2)), each step written out.
//   - The exact p of complete separation: 2 / C(n1 + n2, n1), e.g. 2/252 for 5 + 5.
//   - Brute force: every split of the pooled ranks enumerated, for the exact method.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "compare/mann_whitney.hpp"

namespace p4s::compare {
namespace {

TEST(MannWhitney, MatchesScipysDocumentedExample) {
  const std::vector<double> males = {19, 22, 16, 29, 24}, females = {20, 11, 17, 12};
  const UTestResult exact = mann_whitney_u(males, females);  // no ties, sides <= 8: exact
  EXPECT_EQ(exact.method, UTestMethod::kExact);
  EXPECT_DOUBLE_EQ(exact.u, 17);
  EXPECT_NEAR(exact.p_value, 14.0 / 126.0, 1e-15);
  const UTestResult asymptotic = mann_whitney_u(males, females, UTestMethod::kAsymptotic);
  EXPECT_EQ(asymptotic.method, UTestMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(asymptotic.u, 17);
  EXPECT_NEAR(asymptotic.p_value, 0.11134688653314041, 1e-12);
}

TEST(MannWhitney, CorrectsTheVarianceForTies) {
  // x = {1, 2, 2, 3, 4}, y = {2, 3, 3, 5, 6, 7}. Pooled and sorted:
  //   1 2 2 2 3 3 3 4 5 6 7 -> ranks 1, 3 (2..4), 6 (5..7), 8, 9, 10, 11.
  //   R_x = 1 + 3 + 3 + 6 + 8 = 21, U_x = 21 - 5*6/2 = 6.
  //   Ties: two groups of 3, sum(t^3 - t) = 48; n = 11.
  //   var = 5*6/12 * ((n + 1) - 48 / (n (n - 1))) = 2.5 * (12 - 48/110) = 28.909090...
  //   U = max(6, 30 - 6) = 24; z = (24 - 15 - 0.5) / sqrt(var) = 1.5808902...
  //   p = erfc(z / sqrt 2) = 0.1139031445885...
  const UTestResult r = mann_whitney_u({1, 2, 2, 3, 4}, {2, 3, 3, 5, 6, 7});
  EXPECT_EQ(r.method, UTestMethod::kAsymptotic);  // ties: never exact
  EXPECT_DOUBLE_EQ(r.u, 6);
  EXPECT_NEAR(r.p_value, 0.11390314458853, 1e-12);
  EXPECT_THROW(mann_whitney_u({1, 2, 2}, {3, 4}, UTestMethod::kExact), std::invalid_argument);
}

TEST(MannWhitney, ConstantSidesThatDifferAreSignificantThroughTheTieCorrection) {
  // Memory counters are often the same in every repetition. 5 x 1 against 5 x 2:
  //   ranks 3 and 8, U_x = 15 - 15 = 0; ties 2 * (125 - 5) = 240, n = 10;
  //   var = 25/12 * (11 - 240/90) = 17.3611..., z = (25 - 12.5 - 0.5) / 4.1667 = 2.88,
  //   p = erfc(2.88 / sqrt 2) = 0.0039767517...
  const UTestResult r = mann_whitney_u({1, 1, 1, 1, 1}, {2, 2, 2, 2, 2});
  EXPECT_NEAR(r.p_value, 0.003976751709788652, 1e-12);
  // 3 x 100 against 3 x 110: var = 9/12 * (7 - 48/30) = 4.05, z = 4 / 2.0125 = 1.98762,
  // p = 0.0468541776... (below 0.05, although 3 + 3 without ties can never get there).
  EXPECT_NEAR(mann_whitney_u({100, 100, 100}, {110, 110, 110}).p_value, 0.046854177603873774, 1e-12);
}

TEST(MannWhitney, LargeSamplesUseTheNormalApproximation) {
  // 1..10 against 11..20: U_x = 0, mean 50, var = 100 * 21 / 12 = 175,
  // z = (100 - 50 - 0.5) / sqrt(175) = 3.7418483, p = erfc(z / sqrt 2) = 1.826717911e-4.
  std::vector<double> x, y;
  for (int i = 1; i <= 10; ++i) {
    x.push_back(i);
    y.push_back(i + 10);
  }
  const UTestResult r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, UTestMethod::kAsymptotic);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p_value, 1.826717911095504e-4, 1e-15);
  // Nine against ten is asymptotic too; eight against ten is exact (a side <= 8).
  x.pop_back();
  EXPECT_EQ(mann_whitney_u(x, y).method, UTestMethod::kAsymptotic);
  x.pop_back();
  EXPECT_EQ(mann_whitney_u(x, y).method, UTestMethod::kExact);
}

TEST(MannWhitney, IdenticalSamplesGiveOne) {
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5, 5}, {5, 5, 5}).p_value, 1.0);       // zero variance
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 2, 3}, {1, 2, 3}).p_value, 1.0);       // U at its mean
  EXPECT_DOUBLE_EQ(mann_whitney_u({7, 7, 7, 7, 7}, {7, 7}).p_value, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 4}, {2, 3}).p_value, 1.0);             // exact, U = 2 = mean
}

TEST(MannWhitney, TinySamples) {
  const UTestResult one = mann_whitney_u({1}, {2});
  EXPECT_EQ(one.method, UTestMethod::kExact);
  EXPECT_DOUBLE_EQ(one.u, 0);
  EXPECT_DOUBLE_EQ(one.p_value, 1.0);  // 2 * P(U <= 0) = 2 * 1/2
  EXPECT_NEAR(mann_whitney_u({1, 2}, {3, 4}).p_value, 2.0 / 6.0, 1e-15);
  EXPECT_NEAR(mann_whitney_u({4, 3}, {1, 2}).p_value, 2.0 / 6.0, 1e-15);
  EXPECT_DOUBLE_EQ(mann_whitney_u({4, 3}, {1, 2}).u, 4);
  EXPECT_NEAR(mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}).p_value, 2.0 / 252.0, 1e-15);
  EXPECT_THROW(mann_whitney_u({}, {1}), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u({1}, {std::nan("")}), std::invalid_argument);
}

TEST(MannWhitney, SmallestAttainablePValue) {
  EXPECT_NEAR(mann_whitney_min_p(3, 3), 0.1, 1e-15);  // 2 / C(6, 3)
  EXPECT_NEAR(mann_whitney_min_p(4, 4), 2.0 / 70.0, 1e-15);
  EXPECT_NEAR(mann_whitney_min_p(5, 5), 2.0 / 252.0, 1e-15);
  EXPECT_NEAR(mann_whitney_min_p(3, 4), 2.0 / 35.0, 1e-15);
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(1, 1), 1.0);
  EXPECT_NEAR(mann_whitney_min_p(10, 10), 1.826717911095504e-4, 1e-15);  // asymptotic, as above
  // It is what complete separation gives.
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(2, 7),
                   mann_whitney_u({100, 101}, {1, 2, 3, 4, 5, 6, 7}).p_value);
}

// The exact two-sided p-value by enumerating all C(n1+n2, n1) splits of the ranks 1..n.
double brute_force_p(int n1, int n2, double u_obs) {
  const int n = n1 + n2;
  const double low = std::min(u_obs, double(n1) * n2 - u_obs);
  uint64_t at_or_below = 0, total = 0;
  for (uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != n1) continue;
    double rank_sum = 0;
    for (int i = 0; i < n; ++i)
      if (mask & (1u << i)) rank_sum += i + 1;
    const double u = rank_sum - n1 * (n1 + 1) / 2.0;
    ++total;
    at_or_below += u <= low;
  }
  return std::min(1.0, 2.0 * double(at_or_below) / double(total));
}

TEST(MannWhitney, ExactDistributionMatchesEnumeration) {
  // Every way of giving x n1 of the pooled ranks 1..n, for all sizes up to 5 + 6.
  for (int n1 = 1; n1 <= 5; ++n1) {
    for (int n2 = 1; n2 <= 6; ++n2) {
      const int n = n1 + n2;
      for (uint32_t mask = 0; mask < (1u << n); ++mask) {
        if (__builtin_popcount(mask) != n1) continue;
        std::vector<double> x, y;
        for (int i = 0; i < n; ++i) (mask & (1u << i) ? x : y).push_back(10.0 * (i + 1));
        const UTestResult r = mann_whitney_u(x, y);
        ASSERT_EQ(r.method, UTestMethod::kExact);
        ASSERT_NEAR(r.p_value, brute_force_p(n1, n2, r.u), 1e-12) << n1 << " + " << n2 << ", mask " << mask;
        // Swapping the samples gives the same p and the complementary U.
        const UTestResult s = mann_whitney_u(y, x);
        ASSERT_NEAR(s.p_value, r.p_value, 1e-12);
        ASSERT_DOUBLE_EQ(s.u + r.u, double(n1) * n2);
      }
    }
  }
}

TEST(MannWhitney, ExactStaysFiniteForLongSamples) {
  // 8 against 1000: the probabilities never overflow, and complete separation is tiny.
  std::vector<double> x, y;
  for (int i = 0; i < 8; ++i) x.push_back(2000 + i);
  for (int j = 0; j < 1000; ++j) y.push_back(j);
  const UTestResult r = mann_whitney_u(x, y);
  EXPECT_EQ(r.method, UTestMethod::kExact);
  EXPECT_NEAR(r.p_value / mann_whitney_min_p(8, 1000), 1.0, 1e-9);
  EXPECT_GT(r.p_value, 0);
  y.push_back(1000);
  EXPECT_EQ(mann_whitney_u(x, y).method, UTestMethod::kAsymptotic);  // beyond kMaxExactSize
}

}  // namespace
}  // namespace p4s::compare
