#include "sim/predictable.hpp"

#include <cmath>

namespace p4s::sim {
namespace {

constexpr double kFloatBytes = 4;

// Bytes that do not depend on the batch, and bytes per sample.
struct BoundLine {
  double fixed = 0;
  double per_sample = 0;
};

BoundLine bound_line(const modelgen::ShapedNet& net) {
  BoundLine b;
  b.fixed = kFloatBytes * (3.0 * static_cast<double>(net.params) + static_cast<double>(net.buffers));
  double activations = static_cast<double>(net.input.numel());
  for (const modelgen::LayerShape& l : net.layers) activations += static_cast<double>(l.out.numel());
  b.per_sample = 4.0 * kFloatBytes * activations + 8.0;  // + an int64 label
  return b;
}

}  // namespace

double step_bytes_bound(const modelgen::ShapedNet& net, int64_t batch) {
  const BoundLine b = bound_line(net);
  return b.fixed + b.per_sample * static_cast<double>(batch);
}

int64_t max_predictable_batch(const modelgen::ShapedNet& net) {
  const BoundLine b = bound_line(net);
  if (b.fixed + b.per_sample > kMaxPredictableBytes) return 0;
  const double n = std::floor((kMaxPredictableBytes - b.fixed) / b.per_sample);
  // Far beyond any batch a command accepts; kept inside int64.
  return n >= 9.0e18 ? INT64_MAX : static_cast<int64_t>(n);
}

}  // namespace p4s::sim
