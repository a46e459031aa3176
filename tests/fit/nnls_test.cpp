// Non-negative least squares recovers known non-negative coefficients, clamps what would be
// negative, copes with rank deficiency, and fits for relative error.
#include <gtest/gtest.h>

#include "fit/nnls.hpp"

namespace p4s::fit {
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

}  // namespace
}  // namespace p4s::fit
