// Width rules. torchvision's two roundings are written here with the same float operations as
// its Python code (IEEE doubles both), so that widths give torchvision's channel counts.
#include <algorithm>
#include <cmath>

#include "modelgen/families/family_builders.hpp"

namespace p4s::modelgen {

int64_t FamilySpec::scale(int64_t channels) const {
  return std::max<int64_t>(1, (channels * width_permille + 500) / 1000);
}

int64_t make_divisible(double v, int64_t divisor) {
  // Python: max(divisor, int(v + divisor / 2) // divisor * divisor); int() truncates.
  const auto truncated = static_cast<int64_t>(v + static_cast<double>(divisor) / 2.0);
  int64_t r = std::max(divisor, truncated / divisor * divisor);
  if (static_cast<double>(r) < 0.9 * v) r += divisor;  // never round down by more than 10%
  return r;
}

int64_t round_to_multiple_of(double v, int64_t divisor, double round_up_bias) {
  const auto truncated = static_cast<int64_t>(v + static_cast<double>(divisor) / 2.0);
  const int64_t r = std::max(divisor, truncated / divisor * divisor);
  return static_cast<double>(r) >= round_up_bias * v ? r : r + divisor;
}

}  // namespace p4s::modelgen
