// The Mann-Whitney U test (Wilcoxon rank-sum test) of two independent samples, two-sided:
// are the values of one sample systematically larger than those of the other?
//
// It computes what scipy.stats.mannwhitneyu(x, y, use_continuity=True,
// alternative="two-sided", method="auto") computes (SciPy 1.7 and later), which is what
// Google Benchmark's tools/compare.py calls:
//   - exact: when no value occurs twice in the pooled samples and at least one sample has at
//     most 8 values, the p-value comes from the exact distribution of U under the null
//     hypothesis (every split of the pooled values equally likely). Benchmark repetitions are
//     few, and there the normal approximation is poor.
//   - asymptotic otherwise (ties, or both samples larger): the normal approximation of U,
//     with the variance corrected for ties and a continuity correction of 1/2.
// One deviation: the exact distribution is computed in O(m^2 n^2) for sizes m <= n, so it is
// used only while the larger sample has at most kMaxExactSize values; beyond that the
// normal approximation is used (it is accurate there, and SciPy's own "auto" choice ignores
// the larger size only because its algorithm differs).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace p4s::compare {

enum class UTestMethod { kExact, kAsymptotic };

// "exact" or "asymptotic".
const char* method_name(UTestMethod m);

struct UTestResult {
  double u = 0;        // U of the first sample: pairs (x_i, y_j) with x_i > y_j, ties count 1/2
  double p_value = 1;  // two-sided, in (0, 1]
  UTestMethod method = UTestMethod::kExact;
};

// The larger sample's size up to which the exact distribution is used.
inline constexpr std::size_t kMaxExactSize = 1000;

// Preconditions: both samples have at least one value, and no value is NaN; throws
// std::invalid_argument otherwise. Samples whose pooled values are all equal give p = 1.
// `method` forces one method (scipy's method="exact" / "asymptotic"); forcing kExact on tied
// values, or on a larger sample above kMaxExactSize, throws std::invalid_argument.
UTestResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                           std::optional<UTestMethod> method = std::nullopt);

// The smallest p-value the test can give for samples of sizes n1 and n2 without ties: that of
// complete separation (every value of one sample above every value of the other), 2 / C(n1+n2,
// n1) where the exact method applies. When it exceeds the significance level, no difference
// can be significant however large it is (3 + 3 repetitions: 0.1). Preconditions: n1, n2 >= 1.
double mann_whitney_min_p(std::size_t n1, std::size_t n2);

}  // namespace p4s::compare
