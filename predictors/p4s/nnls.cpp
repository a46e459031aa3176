#include "predictors/p4s/nnls.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace p4s::predictors {

NnlsResult nnls(const arma::mat& A_in, const arma::vec& b, int max_iterations) {
  if (A_in.n_rows != b.n_elem) throw std::invalid_argument("nnls: A has " + std::to_string(A_in.n_rows) +
                                                         " rows but b has " + std::to_string(b.n_elem));
  if (!A_in.is_finite() || !b.is_finite()) throw std::invalid_argument("nnls: non-finite input");
  const arma::uword n = A_in.n_cols;
  // Scale columns to unit norm: the active-set tests compare gradients across columns.
  arma::vec scale(n, arma::fill::ones);
  for (arma::uword j = 0; j < n; ++j) {
    const double norm = arma::norm(A_in.col(j));
    if (norm > 0) scale(j) = 1.0 / norm;
  }
  const arma::mat A = A_in.each_row() % scale.t();
  if (max_iterations <= 0) max_iterations = static_cast<int>(3 * n + 30);

  arma::vec x(n, arma::fill::zeros);
  std::vector<bool> passive(n, false);
  // Variables whose step would not move them up (their gradient was positive only by rounding,
  // as with duplicate or nearly dependent columns): adding them again would cycle.
  std::vector<bool> excluded(n, false);
  arma::vec w = A.t() * (b - A * x);
  const double tol = 10 * std::numeric_limits<double>::epsilon() * arma::norm(A, 1) *
                     static_cast<double>(std::max(A.n_rows, A.n_cols));
  int iter = 0;
  auto passive_indices = [&]() {
    std::vector<arma::uword> p;
    for (arma::uword j = 0; j < n; ++j)
      if (passive[j]) p.push_back(j);
    return arma::uvec(p);
  };
  for (;;) {
    // The most promising inactive variable.
    arma::uword best = n;
    double best_w = tol;
    for (arma::uword j = 0; j < n; ++j)
      if (!passive[j] && !excluded[j] && w(j) > best_w) {
        best_w = w(j);
        best = j;
      }
    if (best == n || iter >= max_iterations) break;
    passive[best] = true;
    for (bool first = true;; first = false) {
      ++iter;
      const arma::uvec p = passive_indices();
      arma::vec z(n, arma::fill::zeros);
      arma::vec zp;
      if (!arma::solve(zp, A.cols(p), b, arma::solve_opts::no_approx + arma::solve_opts::fast)) {
        // Rank-deficient: the least-norm solution.
        zp = arma::pinv(A.cols(p)) * b;
      }
      z.elem(p) = zp;
      if (first && !(z(best) > 0)) {
        // The new variable does not enter: leave x as it was and never try it again.
        passive[best] = false;
        excluded[best] = true;
        break;
      }
      if (zp.min() > 0) {
        x = z;
        break;
      }
      // Step back to the boundary and drop the variables that reached zero. x(j) >= 0 and
      // z(j) <= 0, so the step is in [0, 1]; x(j) == z(j) == 0 stops it at once.
      double alpha = 1.0;
      for (arma::uword k = 0; k < p.n_elem; ++k) {
        const arma::uword j = p(k);
        if (z(j) > 0) continue;
        const double span = x(j) - z(j);
        alpha = std::min(alpha, span > 0 ? x(j) / span : 0.0);
      }
      x += alpha * (z - x);
      for (arma::uword j = 0; j < n; ++j)
        if (passive[j] && x(j) <= tol) {
          passive[j] = false;
          x(j) = 0;
        }
      if (iter >= max_iterations) break;
    }
    w = A.t() * (b - A * x);
  }
  NnlsResult r;
  r.x = x % scale;
  // Every step above is a convex combination of finite solutions; say so loudly if not.
  if (!r.x.is_finite()) throw std::logic_error("nnls: the solution is not finite");
  r.residual_norm = arma::norm(A_in * r.x - b);
  r.iterations = iter;
  return r;
}

arma::vec fit_relative_nnls(const arma::mat& X, const arma::rowvec& y) {
  if (X.n_cols != y.n_elem) throw std::invalid_argument("fit_relative_nnls: X and y differ in samples");
  if (y.n_elem == 0) throw std::invalid_argument("fit_relative_nnls: no samples");
  if (arma::any(y <= 0)) throw std::invalid_argument("fit_relative_nnls: targets must be positive");
  // Row i of A is x_i / y_i and b_i = 1: the residual is the relative error.
  const arma::mat A = (X.each_row() / y).t();
  const arma::vec b(y.n_elem, arma::fill::ones);
  return nnls(A, b).x;
}

}  // namespace p4s::predictors
