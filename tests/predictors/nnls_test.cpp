// Non-negative least squares recovers known non-negative coefficients, clamps what would be
// negative, copes with rank deficiency, and fits for relative error.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "predictors/p4s/nnls.hpp"

namespace p4s::predictors {
namespace {

TEST(Nnls, RecoversNonNegativeCoefficientsExactly) {
  arma::mat A(50, 4);
  for (arma::uword i = 0; i < A.n_rows; ++i)
    for (arma::uword j = 0; j < A.n_cols; ++j) A(i, j) = std::sin((j + 1.0) * (0.3 + 0.7 * i)) + 1.5 + j;
  const arma::vec truth{2.0, 0.0, 0.5, 3e-3};
  const NnlsResult r = nnls(A, A * truth);
  EXPECT_LT(arma::abs(r.x - truth).max(), 1e-9);
  EXPECT_LT(r.residual_norm, 1e-9);
}

TEST(Nnls, ClampsWhatLeastSquaresWouldMakeNegative) {
  arma::mat A = {{1, 0}, {0, 1}, {1, 1}};
  const arma::vec b = {1, -1, 0};
  const NnlsResult r = nnls(A, b);
  EXPECT_GE(r.x.min(), 0.0);
  EXPECT_NEAR(r.x(0), 0.5, 1e-12);  // with x1 = 0: min (x0-1)^2 + x0^2
  EXPECT_EQ(r.x(1), 0.0);
}

TEST(Nnls, HandlesColumnsOfVeryDifferentScaleAndDuplicates) {
  arma::mat A(20, 3);
  for (arma::uword i = 0; i < 20; ++i) {
    A(i, 0) = 1.0;
    A(i, 1) = 1e9 * (i + 1);
    A(i, 2) = 1e9 * (i + 1);  // a duplicate column: rank deficient
  }
  const arma::vec b = 5.0 + 2e-9 * A.col(1);
  const NnlsResult r = nnls(A, b);
  EXPECT_TRUE(r.x.is_finite());
  EXPECT_LT(arma::norm(A * r.x - b) / arma::norm(b), 1e-9);
}

TEST(Nnls, RelativeFitWeighsEverySampleAlike) {
  // y spans four orders of magnitude; plain least squares would ignore the small ones.
  arma::mat X(2, 40);
  arma::rowvec y(40);
  for (arma::uword i = 0; i < 40; ++i) {
    X(0, i) = 1.0;
    X(1, i) = std::pow(1.3, i);
    y(i) = 3.0 + 2.0 * X(1, i);
  }
  const arma::vec w = fit_relative_nnls(X, y);
  EXPECT_NEAR(w(0), 3.0, 1e-9);
  EXPECT_NEAR(w(1), 2.0, 1e-9);
}

TEST(Nnls, RefusesBadInput) {
  EXPECT_THROW(nnls(arma::mat(3, 2, arma::fill::ones), arma::vec(4, arma::fill::ones)), std::invalid_argument);
  arma::mat A(2, 2, arma::fill::ones);
  A(0, 0) = arma::datum::nan;
  EXPECT_THROW(nnls(A, arma::vec(2, arma::fill::ones)), std::invalid_argument);
  EXPECT_THROW(fit_relative_nnls(arma::mat(1, 2, arma::fill::ones), arma::rowvec{1.0, -1.0}), std::invalid_argument);
}

// ---- on degenerate problems: optimal and finite ----

// The best residual over every subset of columns whose unconstrained least-squares solution
// is non-negative: the NNLS optimum, found the slow way.
double brute_force_residual(const arma::mat& A, const arma::vec& b) {
  double best = arma::norm(b);
  const arma::uword n = A.n_cols;
  for (arma::uword mask = 1; mask < (arma::uword{1} << n); ++mask) {
    std::vector<arma::uword> cols;
    for (arma::uword j = 0; j < n; ++j)
      if (mask & (arma::uword{1} << j)) cols.push_back(j);
    const arma::mat S = A.cols(arma::uvec(cols));
    const arma::vec x = arma::pinv(S) * b;
    if (x.min() < 0) continue;
    best = std::min(best, arma::norm(S * x - b));
  }
  return best;
}

TEST(NnlsRobustness, OptimalAndFiniteOnDegenerateProblems) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 300; ++trial) {
    const arma::uword m = 1 + trial % 7, n = 1 + trial % 5;
    arma::mat A(m, n);
    for (double& v : A) v = normal(rng);
    // Degenerate columns: a duplicate, a near duplicate, zeros, a constant, huge and tiny scales.
    if (n > 1 && trial % 6 == 1) A.col(n - 1) = A.col(0);
    if (n > 1 && trial % 6 == 2) A.col(n - 1) = A.col(0) * (1 + 1e-13);
    if (trial % 6 == 3) A.col(0).zeros();
    if (trial % 6 == 4) A.col(0).fill(1.0);
    if (trial % 6 == 5) A.col(0) *= 1e12;
    if (n > 1 && trial % 6 == 5) A.col(1) *= 1e-9;
    arma::vec b(m);
    for (double& v : b) v = normal(rng);
    if (trial % 11 == 0) b.zeros();
    SCOPED_TRACE(trial);
    const NnlsResult r = nnls(A, b);
    ASSERT_TRUE(r.x.is_finite());
    EXPECT_GE(r.x.min(), 0.0);
    EXPECT_LE(r.residual_norm, brute_force_residual(A, b) + 1e-7 * (1 + arma::norm(b)));
  }
}

// Nearly dependent columns of scales far apart, where a step of the active-set method was
// 0 / 0 and the solution came out NaN (found by random search; column-major).
TEST(NnlsRobustness, StepsThatWereZeroOverZero) {
  struct Problem {
    arma::uword m, n;
    std::vector<double> a, b;
  };
  const std::vector<Problem> problems = {
      {4, 3,
       {0.0056559946025130144, -0.0018285328141913421, 0, -0.0017987639088950904, -0.0066078705483245022,
        0.018794969520611472, -0.0017040018182855139, -0.0068922850586697476, -3848.6961315864392,
        12895.238528262269, -1191.7678153179954, -5066.1931848817212},
       {-338.36785931629134, 1133.7616394786987, -104.78179551937791, -445.43100980004482}},
      {3, 4,
       {-3.1216198571162288e-06, 0.00026917698772342273, 0, 107.88093100975898, 8.5368181506825778,
        5.7779565912040596, 0.00044077982330826686, 0.020331298028064531, 3.6202412322522008e-05,
        6.1192094423393739e-05, 9.0978643599400149e-06, 3.2800065257542555e-06},
       {109.45672397620559, 8.6967543066160591, 5.8623757972850319}},
      {3, 3,
       {0, 3.658415151189638e-06, -1.6144173229243229e-05, 28508.141586884511, 10334.377324666984,
        5965.3227453315794, 1.7436145644981149e-06, 6.7051524985346322e-07, 1.9520104614120882e-07},
       {32426.069901860821, 11754.65053155743, 6785.148415831799}},
  };
  for (const Problem& p : problems) {
    const arma::mat A(p.a.data(), p.m, p.n);
    const arma::vec b(p.b);
    const NnlsResult r = nnls(A, b);
    ASSERT_TRUE(r.x.is_finite()) << A;
    EXPECT_GE(r.x.min(), 0.0);
    EXPECT_LE(r.residual_norm, brute_force_residual(A, b) + 1e-6 * (1 + arma::norm(b)));
  }
}

TEST(NnlsRobustness, RelativeFitAcrossUnitsFarApart) {
  // Memory in bytes (1e12) predicting latency in ms (1e-3), and the other way round.
  arma::mat X(2, 30);
  arma::rowvec y_ms(30), y_bytes(30);
  for (arma::uword i = 0; i < 30; ++i) {
    X(0, i) = 1.0;
    X(1, i) = 1e12 * (1.0 + i);
    y_ms(i) = 3e-3 + 2e-16 * X(1, i);
    y_bytes(i) = 5e11 + 0.75 * X(1, i);
  }
  const arma::vec w = fit_relative_nnls(X, y_ms);
  ASSERT_TRUE(w.is_finite());
  EXPECT_NEAR(w(0), 3e-3, 1e-12);
  EXPECT_NEAR(w(1), 2e-16, 1e-25);
  const arma::vec v = fit_relative_nnls(X, y_bytes);
  EXPECT_NEAR(v(0) / 5e11, 1.0, 1e-9);
  EXPECT_NEAR(v(1), 0.75, 1e-9);
}

TEST(NnlsRobustness, OneSampleAndConstantColumnsGiveAFiniteExactFit) {
  arma::mat one(2, 1);
  one(0, 0) = 1.0;
  one(1, 0) = 4e9;
  const arma::vec w1 = fit_relative_nnls(one, arma::rowvec{2e9});
  ASSERT_TRUE(w1.is_finite());
  EXPECT_NEAR(w1(0) + 4e9 * w1(1), 2e9, 1.0);
  // Two identical feature rows (a constant column twice) and one sample per row of X.
  arma::mat X(3, 5);
  arma::rowvec y(5);
  for (arma::uword i = 0; i < 5; ++i) {
    X(0, i) = 1.0;
    X(1, i) = 7.0;
    X(2, i) = 7.0;
    y(i) = 21.0;
  }
  const arma::vec w = fit_relative_nnls(X, y);
  ASSERT_TRUE(w.is_finite());
  EXPECT_NEAR(arma::as_scalar(w.t() * X.col(0)), 21.0, 1e-9);
}

}  // namespace
}  // namespace p4s::predictors
