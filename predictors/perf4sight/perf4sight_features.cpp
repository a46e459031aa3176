// Every formula below mirrors one line of perf4sight's fingerprinting/decision_tree_fitter.py,
// function `training`, in the original's order. Python's evaluation is mirrored too, because
// the original mixes exact integers and floats: `effIc = ic / groups` is a float, so any
// product that contains it is a float (sometimes truncated back by `int(...)`), while the
// rest are exact Python integers. Here exact integers are int64 (checked for overflow), the
// float products are doubles multiplied in Python's left-to-right order, and `int(x)` is
// truncation. The network sum is numpy float64, so every value becomes a double at the end.
#include "predictors/perf4sight/perf4sight_features.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/input_error.hpp"

namespace p4s::predictors {
namespace {

// Python integer arithmetic, exact; refuses what would leave int64 (far beyond any real
// network: a count above 9.2e18).
int64_t mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    throw std::overflow_error("perf4sight features: an integer count overflows int64");
  return r;
}
template <typename... Rest>
int64_t mul(int64_t a, int64_t b, Rest... rest) {
  return mul(mul(a, b), rest...);
}
int64_t add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    throw std::overflow_error("perf4sight features: an integer count overflows int64");
  return r;
}
template <typename... Rest>
int64_t add(int64_t a, int64_t b, Rest... rest) {
  return add(add(a, b), rest...);
}

// Python's float(int): correctly rounded, as the conversion below.
double fl(int64_t v) { return static_cast<double>(v); }

// Python's int(x) for a float x: truncation toward zero.
int64_t py_int(double x) {
  // 2^63 as a double; every double below it converts exactly after truncation.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(x) || std::trunc(x) >= kLimit || std::trunc(x) < -kLimit)
    throw std::overflow_error("perf4sight features: a count overflows int64");
  return static_cast<int64_t>(std::trunc(x));
}

// Python's math.log(x, 2), which CPython computes as log(x) / log(2) (not log2(x); the two
// can differ in the last bit).
double py_log_base2(double x) { return std::log(x) / std::log(2.0); }

// math.ceil(a / b) for positive integers.
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// math.floor(a / b) for integers, b > 0.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

void require_positive(int64_t v, const char* what) {
  if (v <= 0)
    throw std::invalid_argument(std::string("perf4sight features: ") + what + " must be positive, got " +
                                std::to_string(v));
}

// Appends values in the order of the names table.
class FeatureSink {
 public:
  explicit FeatureSink(arma::vec& out) : out_(out) {}
  void put(double v) { out_[n_++] = v; }
  void put(int64_t v) { out_[n_++] = fl(v); }
  std::size_t count() const { return n_; }

 private:
  arma::vec& out_;
  std::size_t n_ = 0;
};

// Winograd F(m, r) tile memory: the nested function `wino_mem(m, r)` inside `training`.
void winograd_memory(FeatureSink& f, const Perf4sightConv& c, int64_t op, double eff_ic,
                     int64_t m, int64_t r) {
  const int64_t tile = m + r - 1;  // (m+r-1): input tile edge
  const int64_t tiles_in = ceil_div(c.input_size, m);  // ceil(ip/m)
  const int64_t tiles_out = ceil_div(op, m);           // ceil(op/m)
  // fwd: 3 * bs * oc * (m+r-1)^2 * ceil(ip/m)^2 (exact integer)
  const int64_t fwd = mul(3, c.batch, c.out_channels, mul(tile, tile), mul(tiles_in, tiles_in));
  // bwdX: 3 * bs * ic * (m+r-1)^2 * ceil(op/m)^2 (exact integer)
  const int64_t bwd_x = mul(3, c.batch, c.in_channels, mul(tile, tile), mul(tiles_out, tiles_out));
  // bwdW: int(3 * bs * oc * effIc * (m+r-1)^2 * ceil(ip/m)^2) (float, truncated)
  const int64_t bwd_w = py_int(fl(mul(3, c.batch, c.out_channels)) * eff_ic * fl(mul(tile, tile)) *
                               fl(mul(tiles_in, tiles_in)));
  f.put(fwd);                      // wino-fwd-m-r
  f.put(bwd_x);                    // wino-bwd_x-m-r
  f.put(bwd_w);                    // wino-bwd_w-m-r
  f.put(add(fwd, bwd_x));          // wino-sum-1-m-r
  f.put(add(fwd, bwd_w));          // wino-sum-2-m-r (named literally "wino-sum-2-{m}-{r}" there)
  f.put(add(bwd_x, bwd_w));        // wino-sum-3-m-r (likewise)
  f.put(add(fwd, bwd_x, bwd_w));   // wino-sum-all-m-r (likewise)
}

// Winograd F(m, r) operation counts: the nested function `wino_ops(m, r)` inside `training`.
void winograd_ops(FeatureSink& f, const Perf4sightConv& c, int64_t op, double eff_ic, int64_t m,
                  int64_t r) {
  const int64_t tile = m + r - 1;
  const int64_t tiles_in = ceil_div(c.input_size, m);  // ceil(ip/m)
  const int64_t tiles_out = ceil_div(op, m);           // ceil(op/m)
  const int64_t kernel_tiles = ceil_div(c.kernel, r);  // ceil(k/r)
  const int64_t grad_tiles = ceil_div(op, r);          // ceil(op/r): the output gradient as kernel
  // fwd: bs * oc * effIc * ceil(ip/m)^2 * ceil(k/r)^2 * (m+r-1)^2 (float)
  const double fwd = fl(mul(c.batch, c.out_channels)) * eff_ic * fl(mul(tiles_in, tiles_in)) *
                     fl(mul(kernel_tiles, kernel_tiles)) * fl(mul(tile, tile));
  // bwdX: bs * ic * oc * ceil(op/m)^2 * ceil(k/r)^2 * (m+r-1)^2 (exact integer)
  const int64_t bwd_x = mul(c.batch, c.in_channels, c.out_channels, mul(tiles_out, tiles_out),
                            mul(kernel_tiles, kernel_tiles), mul(tile, tile));
  // bwdW: bs * oc * effIc * ceil(ip/m)^2 * ceil(op/r)^2 * (m+r-1)^2 (float)
  const double bwd_w = fl(mul(c.batch, c.out_channels)) * eff_ic * fl(mul(tiles_in, tiles_in)) *
                       fl(mul(grad_tiles, grad_tiles)) * fl(mul(tile, tile));
  f.put(fwd);                       // wino-ops-fwd-m-r
  f.put(bwd_x);                     // wino-ops-bwd_x-m-r
  f.put(bwd_w);                     // wino-ops-bwd_w-m-r
  f.put(fwd + fl(bwd_x));           // wino-ops-sum-1-m-r
  f.put(fwd + bwd_w);               // wino-ops-sum-2-m-r
  f.put(fl(bwd_x) + bwd_w);         // wino-ops-sum-3-m-r
  f.put(fwd + fl(bwd_x) + bwd_w);   // wino-ops-sum-all-m-r
}

}  // namespace

const std::array<std::string_view, kPerf4sightFeatureCount>& perf4sight_feature_names() {
  static const std::array<std::string_view, kPerf4sightFeatureCount> names = {
      // Tensor allocations.
      "tensor-weights", "tensor-weight_grad", "tensor-ifm", "tensor-ofm", "tensors-sum",
      // im2col / GEMM memory.
      "gemm-i2c-idx-fwd", "gemm-i2c-fwd", "gemm-i2c-idx-bwd-x", "gemm-i2c-bwd-x",
      "gemm-i2c-bwd-w", "gemm-i2c-sum-total", "gemm-i2c-index-sum-total",
      // GEMM operations.
      "gemm-ops-fwd", "gemm-ops-bwd", "gemm-ops-sum",
      // FFT memory.
      "fft-weights-fwd", "fft-ifm-fwd", "fft-ofm-bwd-w", "fft-weights-bwd-x", "fft-ofm-bwd-x",
      "fft-sum-fwd", "fft-sum-bwd_x", "fft-sum-bwd_w", "fft-sum-all",
      // FFT operations.
      "fft-fwd-ops", "fft-bwd_x-ops", "fft-bwd_w-ops", "fft-ops-sum",
      // Winograd memory, F(4,3) then F(3,2).
      "wino-fwd-4-3", "wino-bwd_x-4-3", "wino-bwd_w-4-3", "wino-sum-1-4-3", "wino-sum-2-4-3",
      "wino-sum-3-4-3", "wino-sum-all-4-3",
      "wino-fwd-3-2", "wino-bwd_x-3-2", "wino-bwd_w-3-2", "wino-sum-1-3-2", "wino-sum-2-3-2",
      "wino-sum-3-3-2", "wino-sum-all-3-2",
      // Winograd operations, F(4,3) then F(3,2).
      "wino-ops-fwd-4-3", "wino-ops-bwd_x-4-3", "wino-ops-bwd_w-4-3", "wino-ops-sum-1-4-3",
      "wino-ops-sum-2-4-3", "wino-ops-sum-3-4-3", "wino-ops-sum-all-4-3",
      "wino-ops-fwd-3-2", "wino-ops-bwd_x-3-2", "wino-ops-bwd_w-3-2", "wino-ops-sum-1-3-2",
      "wino-ops-sum-2-3-2", "wino-ops-sum-3-3-2", "wino-ops-sum-all-3-2",
  };
  return names;
}

int64_t perf4sight_output_size(const Perf4sightConv& c) {
  require_positive(c.stride, "stride");
  // op = 1 + floor((ip + 2*pad - k) / stride): no dilation, as in the original.
  return 1 + floor_div(c.input_size + 2 * c.padding - c.kernel, c.stride);
}

arma::vec perf4sight_conv_features(const Perf4sightConv& c) {
  require_positive(c.batch, "batch size");
  require_positive(c.in_channels, "in_channels");
  require_positive(c.out_channels, "out_channels");
  require_positive(c.input_size, "input size");
  require_positive(c.kernel, "kernel");
  require_positive(c.stride, "stride");
  require_positive(c.groups, "groups");
  if (c.padding < 0)
    throw std::invalid_argument("perf4sight features: padding must not be negative, got " +
                                std::to_string(c.padding));
  if (c.in_channels % c.groups != 0)
    throw std::invalid_argument("perf4sight features: groups " + std::to_string(c.groups) +
                                " does not divide in_channels " + std::to_string(c.in_channels));
  const int64_t op = perf4sight_output_size(c);
  if (op <= 0)
    throw std::invalid_argument("perf4sight features: the kernel does not fit the padded input");

  const int64_t bs = c.batch, ic = c.in_channels, oc = c.out_channels, ip = c.input_size,
                k = c.kernel;
  const int64_t ip2 = mul(ip, ip), op2 = mul(op, op), k2 = mul(k, k);
  const double eff_ic = fl(ic) / fl(c.groups);  // effIc = ic / groups, a float in Python

  arma::vec out(kPerf4sightFeatureCount);
  FeatureSink f(out);

  // --- Tensor allocations ("Tensors allocations" block).
  // weights = int(oc * effIc * k^2)
  const int64_t weights = py_int(fl(oc) * eff_ic * fl(k2));
  // weightGrad = int(bs * oc * effIc * k^2): the original scales the weight gradient by bs
  const int64_t weight_grad = py_int(fl(mul(bs, oc)) * eff_ic * fl(k2));
  // ifm = 2 * bs * ic * ip^2: input and its gradient
  const int64_t ifm = mul(2, bs, ic, ip2);
  // ofm = 2 * bs * oc * op^2: output and its gradient
  const int64_t ofm = mul(2, bs, oc, op2);
  f.put(weights);
  f.put(weight_grad);
  f.put(ifm);
  f.put(ofm);
  f.put(add(weights, weight_grad, ifm, ofm));  // tensors-sum

  // --- im2col / GEMM memory ("GEMM implementation" block).
  const int64_t i2c_idx_fwd = mul(bs, op2);                             // bs * op^2
  const int64_t i2c_fwd = mul(bs, op2, k2, ic);                         // bs * op^2 * k^2 * ic
  const int64_t i2c_idx_bwd_x = mul(bs, ip2);                           // bs * ip^2
  const int64_t i2c_bwd_x = mul(bs, ip2, k2, ic);                       // bs * ip^2 * k^2 * ic
  const int64_t i2c_bwd_w = py_int(fl(mul(bs, op2, k2)) * eff_ic);      // int(bs*op^2*k^2*effIc)
  f.put(i2c_idx_fwd);
  f.put(i2c_fwd);
  f.put(i2c_idx_bwd_x);
  f.put(i2c_bwd_x);
  f.put(i2c_bwd_w);
  f.put(add(i2c_fwd, i2c_bwd_x, i2c_bwd_w));          // gemm-i2c-sum-total
  f.put(add(mul(2, i2c_idx_fwd), i2c_idx_bwd_x));     // gemm-i2c-index-sum-total

  // --- GEMM operations ("GEMM ops" block).
  // gemmOpsFwd = bs * oc * op^2 * k^2 * effIc (float)
  const double gemm_ops_fwd = fl(mul(bs, oc, op2, k2)) * eff_ic;
  // gemmOpsBwdX = bs * ic * ip^2 * k^2 * oc (the original's live line; a commented-out
  // variant multiplies by op instead of oc)
  const int64_t gemm_ops_bwd_x = mul(bs, ic, ip2, k2, oc);
  f.put(gemm_ops_fwd);
  f.put(gemm_ops_bwd_x);
  f.put(2 * gemm_ops_fwd + fl(gemm_ops_bwd_x));  // gemm-ops-sum = 2*fwd + bwdX

  // --- FFT memory ("FFT implementation" block): ip*(1+ip) frequency-domain elements per plane.
  const int64_t ip_freq = mul(ip, 1 + ip), op_freq = mul(op, 1 + op);
  const int64_t fft_weights_fwd = py_int(fl(mul(ip_freq, oc)) * eff_ic);  // int(ip(1+ip) oc effIc)
  const int64_t fft_ifm_fwd = mul(ip_freq, mul(bs, ic));                   // ip(1+ip) (bs ic)
  const int64_t fft_ofm_bwd_w = mul(ip_freq, mul(bs, oc));                 // ip(1+ip) (bs oc)
  const int64_t fft_weights_bwd_x = py_int(fl(mul(op_freq, oc)) * eff_ic); // int(op(1+op) oc effIc)
  const int64_t fft_ofm_bwd_x = mul(op_freq, mul(bs, oc));                 // op(1+op) (bs oc)
  const int64_t fft_ifm_bwd_w = fft_ifm_fwd;                               // fftIfmBwdW = fftIfmFwd
  f.put(fft_weights_fwd);
  f.put(fft_ifm_fwd);
  f.put(fft_ofm_bwd_w);
  f.put(fft_weights_bwd_x);
  f.put(fft_ofm_bwd_x);
  f.put(add(fft_ifm_fwd, fft_weights_fwd));      // fft-sum-fwd
  f.put(add(fft_ofm_bwd_x, fft_weights_bwd_x));  // fft-sum-bwd_x
  f.put(add(fft_ofm_bwd_w, fft_ifm_bwd_w));      // fft-sum-bwd_w
  f.put(add(fft_ifm_fwd, fft_weights_fwd, fft_ofm_bwd_x, fft_weights_bwd_x, fft_ofm_bwd_w,
            fft_ifm_bwd_w));                     // fft-sum-all

  // --- FFT operations ("FFT ops" block). The transform factor (bs*ic + bs*oc + oc*effIc) is
  // an int plus a float in Python; the pointwise products bs*oc*ic*size^2 are exact ints.
  const double planes = fl(add(mul(bs, ic), mul(bs, oc))) + fl(oc) * eff_ic;
  // fftFwdOps = ip^2 * log2(ip) * planes + bs*oc*ic*ip^2
  const double fft_fwd_ops = fl(ip2) * py_log_base2(fl(ip)) * planes + fl(mul(bs, oc, ic, ip2));
  // fftBwdXOps = op^2 * log2(op) * planes + bs*oc*ic*op^2
  const double fft_bwd_x_ops = fl(op2) * py_log_base2(fl(op)) * planes + fl(mul(bs, oc, ic, op2));
  // fftBwdWOps = ip * log2(ip^2) * planes + bs*oc*ic*ip^2 (ip, not ip^2, in front: as written)
  const double fft_bwd_w_ops = fl(ip) * py_log_base2(fl(ip2)) * planes + fl(mul(bs, oc, ic, ip2));
  f.put(fft_fwd_ops);
  f.put(fft_bwd_x_ops);
  f.put(fft_bwd_w_ops);
  f.put(fft_fwd_ops + fft_bwd_x_ops + fft_bwd_w_ops);  // fft-ops-sum

  // --- Winograd ("Winograd implementation" and "Winograd ops" blocks).
  winograd_memory(f, c, op, eff_ic, 4, 3);
  winograd_memory(f, c, op, eff_ic, 3, 2);
  winograd_ops(f, c, op, eff_ic, 4, 3);
  winograd_ops(f, c, op, eff_ic, 3, 2);

  if (f.count() != kPerf4sightFeatureCount)
    throw std::logic_error("perf4sight features: wrote " + std::to_string(f.count()) +
                           " features, expected 56");
  return out;
}

std::vector<Perf4sightConv> perf4sight_convs(const modelgen::NetSpec& spec,
                                             const modelgen::ShapedNet& shaped, int64_t batch) {
  require_positive(batch, "batch size");
  if (spec.layers.size() != shaped.layers.size())
    throw std::invalid_argument("perf4sight features: network \"" + spec.name + "\" has " +
                                std::to_string(spec.layers.size()) + " layers but its shapes " +
                                std::to_string(shaped.layers.size()));
  std::vector<Perf4sightConv> convs;
  for (std::size_t i = 0; i < spec.layers.size(); ++i) {
    const modelgen::Layer& layer = spec.layers[i];
    if (layer.op != modelgen::Op::kConv2d) continue;
    const modelgen::Conv2dAttrs& a = layer.conv();
    if (shaped.layers[i].inputs.size() != 1)
      throw std::invalid_argument("perf4sight features: conv layer \"" + layer.name +
                                  "\" has no single input shape");
    // TestGenerator.from_model keeps element [0] of each pair: the height.
    Perf4sightConv c;
    c.batch = batch;
    c.in_channels = a.in_channels;
    c.out_channels = a.out_channels;
    c.input_size = shaped.shape_of(shaped.layers[i].inputs[0]).height;
    c.kernel = a.kernel.h;
    c.padding = a.padding.h;
    c.stride = a.stride.h;
    c.groups = a.groups;
    convs.push_back(c);
  }
  return convs;
}

arma::vec perf4sight_features(const modelgen::NetSpec& spec, const modelgen::ShapedNet& shaped,
                              int64_t batch) {
  const std::vector<Perf4sightConv> convs = perf4sight_convs(spec, shaped, batch);
  if (convs.empty())
    throw InputError("perf4sight features: network \"" + spec.name +
                     "\" has no conv2d layer; perf4sight describes networks by their convolutions only");
  // Fitter.get_fit_variables: the first layer's values, then += each next layer's. A conv the
  // original's formula cannot describe (it ignores dilation) is the network's to change.
  arma::vec sum(kPerf4sightFeatureCount, arma::fill::zeros);
  for (size_t i = 0; i < convs.size(); ++i) {
    try {
      sum += perf4sight_conv_features(convs[i]);
    } catch (const std::invalid_argument& e) {
      throw InputError("network \"" + spec.name + "\": convolution " + std::to_string(i + 1) + " of " +
                       std::to_string(convs.size()) + ": " + e.what());
    }
  }
  return sum;
}

}  // namespace p4s::predictors
