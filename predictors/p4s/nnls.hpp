// Non-negative least squares: min ||A x - b||^2 subject to x >= 0 (Lawson and Hanson's active
// set method). The learned parts of the project's predictors are non-negative sums of cost
// terms, so they extrapolate to larger networks and batches instead of saturating.
#pragma once

#include <armadillo>

namespace p4s::predictors {

struct NnlsResult {
  arma::vec x;            // the solution, x >= 0
  double residual_norm;   // ||A x - b||
  int iterations;
};

// A: one row per equation (here: per measurement), one column per unknown; b: the right-hand
// side. Columns are scaled internally, so terms of very different magnitudes are fine.
// Rank-deficient, duplicate, zero and nearly dependent columns are fine: the solution is always
// finite (a variable whose entry the active set cannot make positive is left at 0).
// Throws std::invalid_argument for mismatched sizes or non-finite input.
NnlsResult nnls(const arma::mat& A, const arma::vec& b, int max_iterations = 0);

// Fits y ~ X^T w (X: one sample per column, mlpack's convention) with w >= 0, minimizing the
// sum of squared relative errors ((y - X^T w) / y)^2: what MAPE-like accuracy asks for.
// Precondition: y > 0.
arma::vec fit_relative_nnls(const arma::mat& X, const arma::rowvec& y);

}  // namespace p4s::predictors
