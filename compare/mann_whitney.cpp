#include "compare/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace p4s::compare {
namespace {

constexpr std::size_t kExactMaxSmallerSize = 8;  // SciPy's "auto" rule

bool use_exact(std::size_t n1, std::size_t n2, bool ties) {
  return !ties && std::min(n1, n2) <= kExactMaxSmallerSize && std::max(n1, n2) <= kMaxExactSize;
}

// P(U <= u) for the U of a sample of size m against one of size n, when all C(m+n, m) splits
// of m+n distinct values are equally likely. Built up over the other sample's size k = 0..n:
// the largest pooled value belongs to the first sample with probability i/(i+k), and then
// exceeds all k values of the other, adding k to U; otherwise it adds nothing. Probabilities
// (not counts) keep every term in [0, 1], so nothing overflows.
double exact_cdf(std::size_t m, std::size_t n, std::size_t u) {
  // prev[i][v]: P(U = v) for sizes (i, k-1); cur[i][v] for sizes (i, k).
  std::vector<std::vector<double>> prev(m + 1), cur(m + 1);
  for (std::size_t i = 0; i <= m; ++i) prev[i] = {1.0};  // k = 0: U is 0
  for (std::size_t k = 1; k <= n; ++k) {
    cur[0] = {1.0};
    for (std::size_t i = 1; i <= m; ++i) {
      std::vector<double>& c = cur[i];
      c.assign(i * k + 1, 0.0);
      const double from_first = static_cast<double>(i) / static_cast<double>(i + k);
      const double from_other = static_cast<double>(k) / static_cast<double>(i + k);
      const std::vector<double>& shifted = cur[i - 1];  // sizes (i-1, k), shifted by k
      for (std::size_t v = 0; v < shifted.size(); ++v) c[v + k] += from_first * shifted[v];
      const std::vector<double>& same = prev[i];        // sizes (i, k-1)
      for (std::size_t v = 0; v < same.size(); ++v) c[v] += from_other * same[v];
    }
    std::swap(prev, cur);
  }
  const std::vector<double>& pmf = prev[m];
  double cdf = 0;
  for (std::size_t v = 0; v <= u && v < pmf.size(); ++v) cdf += pmf[v];
  return cdf;
}

// Two-sided p-value of the normal approximation, as SciPy computes it: U is the larger of
// the two samples' U, and the continuity correction moves it 1/2 towards the mean.
// `tie_term` is the sum of t^3 - t over groups of t equal values.
double asymptotic_p(double u1, std::size_t n1, std::size_t n2, double tie_term) {
  const double a = static_cast<double>(n1), b = static_cast<double>(n2), n = a + b;
  const double mean = a * b / 2;
  const double var = a * b / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (!(var > 0)) return 1.0;  // all pooled values equal: no evidence of any difference
  const double u = std::max(u1, a * b - u1);
  const double z = (u - mean - 0.5) / std::sqrt(var);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));  // 2 * (1 - Phi(z))
}

}  // namespace

const char* method_name(UTestMethod m) {
  return m == UTestMethod::kExact ? "exact" : "asymptotic";
}

UTestResult mann_whitney_u(const std::vector<double>& x, const std::vector<double>& y,
                           std::optional<UTestMethod> method) {
  if (x.empty() || y.empty()) throw std::invalid_argument("mann_whitney_u: both samples need a value");
  const std::size_t n1 = x.size(), n2 = y.size();
  // Pool, sort, and give each group of equal values the mean of the ranks it spans.
  std::vector<std::pair<double, bool>> pooled;  // value, from x
  pooled.reserve(n1 + n2);
  for (double v : x) pooled.emplace_back(v, true);
  for (double v : y) pooled.emplace_back(v, false);
  for (const auto& p : pooled)
    if (std::isnan(p.first)) throw std::invalid_argument("mann_whitney_u: a sample holds NaN");
  std::sort(pooled.begin(), pooled.end(),
            [](const auto& l, const auto& r) { return l.first < r.first; });
  double rank_sum_x = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (pooled[k].second) rank_sum_x += mid_rank;
    if (t > 1) {
      ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  UTestResult r;
  const double a = static_cast<double>(n1);
  r.u = rank_sum_x - a * (a + 1) / 2;
  if (method == UTestMethod::kExact && (ties || std::max(n1, n2) > kMaxExactSize))
    throw std::invalid_argument(ties ? "mann_whitney_u: the exact method needs samples without ties"
                                     : "mann_whitney_u: a sample is too large for the exact method");
  if (method ? *method == UTestMethod::kExact : use_exact(n1, n2, ties)) {
    r.method = UTestMethod::kExact;
    // Without ties U is an integer; the distribution is symmetric about n1*n2/2.
    const double u_low = std::min(r.u, a * static_cast<double>(n2) - r.u);
    const auto u = static_cast<std::size_t>(std::llround(u_low));
    r.p_value = std::min(1.0, 2 * exact_cdf(std::min(n1, n2), std::max(n1, n2), u));
  } else {
    r.method = UTestMethod::kAsymptotic;
    r.p_value = asymptotic_p(r.u, n1, n2, tie_term);
  }
  return r;
}

double mann_whitney_min_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) throw std::invalid_argument("mann_whitney_min_p: sizes must be positive");
  if (use_exact(n1, n2, false)) {
    // 2 / C(n1+n2, n1), built as a product of ratios so nothing overflows.
    const std::size_t m = std::min(n1, n2), n = std::max(n1, n2);
    double inverse_binomial = 1;
    for (std::size_t i = 1; i <= m; ++i)
      inverse_binomial *= static_cast<double>(i) / static_cast<double>(n + i);
    return std::min(1.0, 2 * inverse_binomial);
  }
  return asymptotic_p(0, n1, n2, 0);
}

}  // namespace p4s::compare
