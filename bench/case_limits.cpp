#include "bench/case_limits.hpp"

#include <string>

#include "bench/options.hpp"

namespace p4s::bench {
namespace {

constexpr int64_t kLimit = int64_t{1} << 62;

// out = a * b; false when that overflows or reaches kLimit.
bool mul_within(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out) && out < kLimit; }

}  // namespace

bool fits_in_64_bits(const modelgen::ShapedNet& net, int64_t batch) {
  if (batch <= 0) return false;
  // Every tensor of the step is a per-sample activation times the batch, or a parameter.
  int64_t widest = net.input.numel();
  int64_t macs = 0;  // forward, weight and input gradients: at most 3 per forward MAC
  for (const modelgen::LayerShape& l : net.layers) {
    if (l.out.numel() > widest) widest = l.out.numel();
    int64_t layer = 0;
    if (!mul_within(l.forward_macs, 3, layer) || __builtin_add_overflow(macs, layer, &macs) || macs >= kLimit)
      return false;
  }
  int64_t bytes = 0, flops = 0;
  // 4-byte floats; 2 FLOPs per multiply-accumulate (ShapedNet::training_flops).
  return mul_within(widest, batch, bytes) && mul_within(bytes, 4, bytes) && mul_within(macs, 2, flops) &&
         mul_within(flops, batch, flops);
}

void check_network_batches(const std::vector<BenchNet>& nets, const std::vector<int64_t>& batches,
                           const std::string& flag) {
  for (const BenchNet& n : nets)
    for (int64_t b : batches)
      if (!fits_in_64_bits(n.shapes, b))
        throw InputError(flag + ": " + n.source + ": network \"" + n.spec.name + "\" at batch " + std::to_string(b) +
                          ": its tensors or its step's FLOPs would pass 2^62, beyond what 64-bit counts hold");
}

}  // namespace p4s::bench
