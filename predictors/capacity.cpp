#include "predictors/capacity.hpp"

#include <algorithm>
#include <cmath>

namespace p4s::predictors {

std::optional<double> fit_capacity(const std::vector<std::pair<double, bool>>& predicted_and_fits) {
  // Only finite, positive predictions say anything about a capacity in bytes.
  std::vector<std::pair<double, bool>> v;
  bool any_oom = false;
  for (const auto& p : predicted_and_fits)
    if (std::isfinite(p.first) && p.first > 0) {
      v.push_back(p);
      any_oom |= !p.second;
    }
  if (!any_oom) return std::nullopt;
  std::sort(v.begin(), v.end());
  int fits_above = 0;
  for (const auto& p : v) fits_above += p.second;
  int oom_below = 0;
  int best = fits_above;  // a threshold under every prediction
  double best_gap = -1;
  double best_t = v.front().first * 0.5;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].second) --fits_above; else ++oom_below;
    if (i + 1 < v.size() && v[i + 1].first == v[i].first) continue;
    const int errors = fits_above + oom_below;
    const double gap = i + 1 < v.size() ? v[i + 1].first - v[i].first : 0.0;
    if (errors < best || (errors == best && gap > best_gap)) {
      best = errors;
      best_gap = gap;
      best_t = i + 1 < v.size() ? 0.5 * (v[i].first + v[i + 1].first) : v[i].first * 1.5;
    }
  }
  // Every prediction is positive, so is every threshold; checked, as a model file refuses
  // any other.
  if (!std::isfinite(best_t) || best_t <= 0) return std::nullopt;
  return best_t;
}

}  // namespace p4s::predictors
