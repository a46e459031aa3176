#include "bench/layer_cases.hpp"

#include <stdexcept>

namespace p4s::bench {
namespace {

// Keeps every product of the checks below inside int64.
constexpr int64_t kMaxArg = int64_t{1} << 24;

void check_args(LayerKind kind, const std::vector<int64_t>& args) {
  const std::vector<std::string>& names = layer_arg_names(kind);
  if (args.size() != names.size())
    throw std::invalid_argument(std::string(layer_kind_name(kind)) + " takes " +
                                std::to_string(names.size()) + " arguments, got " +
                                std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] <= 0 || args[i] > kMaxArg)
      throw std::invalid_argument(names[i] + ":" + std::to_string(args[i]) +
                                  " must be from 1 to " + std::to_string(kMaxArg));
}

int64_t mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw std::invalid_argument("sizes are too large");
  return r;
}

}  // namespace

LayerCase make_layer_case(LayerKind kind, const std::vector<int64_t>& args) {
  check_args(kind, args);
  LayerCase c;
  c.batch = args.back();
  c.layer.inputs = {std::string(modelgen::kInputName)};
  int64_t macs = 0;  // per sample
  switch (kind) {
    case LayerKind::kConv2d: {
      const int64_t cin = args[0], cout = args[1], k = args[2], s = args[3], g = args[4], hw = args[5];
      if (cin % g != 0 || cout % g != 0)
        throw std::invalid_argument("g:" + std::to_string(g) + " must divide cin:" +
                                    std::to_string(cin) + " and cout:" + std::to_string(cout));
      const int64_t out = modelgen::window_output_size(hw, k, s, k / 2, 1, false);
      if (out <= 0)
        throw std::invalid_argument("k:" + std::to_string(k) + " does not fit hw:" + std::to_string(hw));
      modelgen::Conv2dAttrs a;
      a.in_channels = cin;
      a.out_channels = cout;
      a.kernel = {k, k};
      a.stride = {s, s};
      a.padding = {k / 2, k / 2};
      a.groups = g;
      a.bias = false;
      c.layer.name = "conv";
      c.layer.op = modelgen::Op::kConv2d;
      c.layer.attrs = a;
      c.input = modelgen::TensorShape{cin, hw, hw, false};
      c.params = mul(mul(cout, cin / g), k * k);
      macs = mul(out * out, c.params);
      break;
    }
    case LayerKind::kLinear: {
      const int64_t in = args[0], out = args[1];
      c.layer.name = "fc";
      c.layer.op = modelgen::Op::kLinear;
      c.layer.attrs = modelgen::LinearAttrs{in, out, true};
      c.input = modelgen::TensorShape{in, 1, 1, true};
      macs = mul(in, out);
      c.params = macs + out;
      break;
    }
    case LayerKind::kBatchNorm2d: {
      const int64_t ch = args[0], hw = args[1];
      c.layer.name = "bn";
      c.layer.op = modelgen::Op::kBatchNorm2d;
      c.layer.attrs = modelgen::BatchNorm2dAttrs{ch};
      c.input = modelgen::TensorShape{ch, hw, hw, false};
      c.params = 2 * ch;
      break;
    }
  }
  c.flops = mul(mul(macs, 6), c.batch);
  return c;
}

}  // namespace p4s::bench
