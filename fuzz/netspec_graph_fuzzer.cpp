// NetSpecs built from the fuzzer's bytes as layer graphs (ops, wiring and attributes), mostly
// consistent so that shape inference and what follows it get deep: byte-level mutation of JSON
// text (netspec_fuzzer) rarely makes a valid network. Each spec is written with
// netspec_to_json and read back: the reader may refuse it with InputError only; a spec it
// accepts must equal the one written and pass netspec_checks.hpp; and random channel pruning of
// it either reaches its level or says it cannot (PruneError), giving a valid NetSpec.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/netspec_checks.hpp"
#include "modelgen/netspec.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/network_name.hpp"
#include "modelgen/pruning.hpp"
#include "modelgen/shapes.hpp"

namespace {

using namespace p4s;
using modelgen::Hw;
using modelgen::Op;

// What the builder believes each tensor's shape is. It follows the rules only roughly: where it
// is wrong, the reader refuses the spec, which is a case worth fuzzing too.
struct Shape {
  int64_t c = 1, h = 1, w = 1;
  bool flat = false;
};

// The builder's own arithmetic on sizes that may be absurd: never overflows, 1 where it would.
int64_t mul(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? 1 : r;
}
int64_t add(int64_t a, int64_t b) {
  int64_t r = 0;
  return __builtin_add_overflow(a, b, &r) ? 1 : r;
}
// window_output_size for the sizes shape inference lets through (below 2^24); 1 otherwise.
int64_t window(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation, bool ceil) {
  constexpr int64_t kLimit = int64_t{1} << 24;
  for (int64_t v : {in, kernel, stride, dilation})
    if (v < 1 || v > kLimit) return 1;
  if (padding < 0 || padding > kLimit) return 1;
  return modelgen::window_output_size(in, kernel, stride, padding, dilation, ceil);
}

class Builder {
 public:
  explicit Builder(FuzzedDataProvider& in) : in_(in) {}

  modelgen::NetSpec build() {
    modelgen::NetSpec spec;
    spec.name = "graph";
    spec.input = {size(1, 16), size(1, 48), size(1, 48)};
    spec.classes = size(1, 12);
    shapes_.push_back({spec.input.channels, spec.input.height, spec.input.width, false});
    names_.push_back(std::string(modelgen::kInputName));
    const int layers = in_.ConsumeIntegralInRange(1, 24);
    for (int i = 0; i < layers && in_.remaining_bytes() > 0; ++i) spec.layers.push_back(layer(i));
    if (in_.ConsumeIntegralInRange(0, 7) != 0) finish(spec);
    spec.output = in_.ConsumeIntegralInRange(0, 15) == 0 ? pick_name() : names_.back();
    return spec;
  }

 private:
  // Mostly in [lo, hi]; now and then anything, to reach the size limits and sign checks.
  int64_t size(int64_t lo, int64_t hi) {
    if (in_.ConsumeIntegralInRange(0, 31) == 0) return in_.ConsumeIntegral<int64_t>();
    return in_.ConsumeIntegralInRange(lo, hi);
  }
  Hw pair(int64_t lo, int64_t hi) {
    const int64_t h = size(lo, hi);
    return {h, in_.ConsumeBool() ? h : size(lo, hi)};
  }
  // An earlier tensor, usually the latest.
  size_t pick() {
    return in_.ConsumeBool() ? shapes_.size() - 1 : in_.ConsumeIntegralInRange<size_t>(0, shapes_.size() - 1);
  }
  std::string pick_name() { return names_[pick()]; }

  modelgen::Layer layer(int index) {
    static constexpr Op kOps[] = {Op::kConv2d,    Op::kBatchNorm2d, Op::kLinear,  Op::kRelu,
                                  Op::kRelu6,     Op::kMaxPool2d,   Op::kAvgPool2d,
                                  Op::kAdaptiveAvgPool2d, Op::kAdd, Op::kConcat,
                                  Op::kFlatten,   Op::kDropout,     Op::kSilu,    Op::kHardswish,
                                  Op::kHardsigmoid, Op::kSigmoid,   Op::kGelu,    Op::kMul,
                                  Op::kScale,     Op::kLayerNorm2d, Op::kChannelShuffle,
                                  Op::kSlice,     Op::kDropPath,    Op::kIdentity};
    modelgen::Layer l;
    l.op = in_.PickValueInArray(kOps);
    l.name = std::string(modelgen::op_name(l.op)) + std::to_string(index);
    if (in_.ConsumeIntegralInRange(0, 63) == 0) l.name = names_[pick()];  // a duplicate
    const size_t first = pick();
    l.inputs.push_back(names_[first]);
    Shape s = shapes_[first];
    int extra = l.op == Op::kAdd || l.op == Op::kMul ? 1 : l.op == Op::kConcat ? in_.ConsumeIntegralInRange(1, 3) : 0;
    if (in_.ConsumeIntegralInRange(0, 31) == 0) extra = in_.ConsumeIntegralInRange(0, 3) - (extra > 0);
    for (int k = 0; k < extra; ++k) {
      // Add and concat need matching inputs: prefer the same tensor, or one that looks alike.
      size_t other = first;
      if (in_.ConsumeBool()) other = pick();
      l.inputs.push_back(names_[other]);
      if (l.op == Op::kConcat) s.c = add(s.c, shapes_[other].c);
    }
    l.attrs = modelgen::default_attrs(l.op);
    switch (l.op) {
      case Op::kConv2d: {
        modelgen::Conv2dAttrs& a = l.conv();
        a.in_channels = in_.ConsumeIntegralInRange(0, 15) == 0 ? size(1, 64) : s.c;
        a.groups = in_.ConsumeBool() ? 1 : in_.ConsumeBool() ? a.in_channels : size(1, 8);
        a.out_channels = in_.ConsumeBool() ? size(1, 64) : mul(a.groups, size(1, 4));
        a.kernel = pair(1, 7);
        a.stride = pair(1, 3);
        a.padding = pair(0, 3);
        a.dilation = in_.ConsumeIntegralInRange(0, 7) == 0 ? pair(1, 3) : Hw{1, 1};
        a.bias = in_.ConsumeBool();
        s = {a.out_channels, window(s.h, a.kernel.h, a.stride.h, a.padding.h, a.dilation.h, false),
             window(s.w, a.kernel.w, a.stride.w, a.padding.w, a.dilation.w, false), false};
        break;
      }
      case Op::kBatchNorm2d:
        l.attrs = modelgen::BatchNorm2dAttrs{in_.ConsumeIntegralInRange(0, 15) == 0 ? size(1, 64) : s.c};
        break;
      case Op::kLinear: {
        const int64_t in_features = s.flat ? s.c : mul(mul(s.c, s.h), s.w);
        l.attrs = modelgen::LinearAttrs{in_.ConsumeIntegralInRange(0, 15) == 0 ? size(1, 4096) : in_features,
                                        size(1, 64), in_.ConsumeBool()};
        s = {l.linear().out_features, 1, 1, true};
        break;
      }
      case Op::kRelu:
      case Op::kRelu6:
      case Op::kSilu:
      case Op::kHardswish:
      case Op::kHardsigmoid:
        l.attrs = modelgen::ActivationAttrs{in_.ConsumeBool()};
        break;
      case Op::kSigmoid:
      case Op::kGelu:  // no in-place form: now and then asked for all the same
        l.attrs = modelgen::ActivationAttrs{in_.ConsumeIntegralInRange(0, 15) == 0};
        break;
      case Op::kScale:
      case Op::kLayerNorm2d:
        l.attrs = modelgen::ChannelAttrs{in_.ConsumeIntegralInRange(0, 15) == 0 ? size(1, 64) : s.c,
                                         in_.ConsumeIntegralInRange(0, 15) == 0 ? in_.ConsumeFloatingPoint<double>() : 1e-5};
        break;
      case Op::kChannelShuffle:
        l.attrs = modelgen::ChannelShuffleAttrs{size(1, 4)};
        break;
      case Op::kSlice: {
        const int64_t top = s.c > 1 && s.c <= 4096 ? s.c : 1;  // a plausible channel count
        const int64_t start = size(0, top - 1);
        const int64_t lo = start >= 0 && start < top ? start + 1 : 1;
        const int64_t end = size(lo, top);
        l.attrs = modelgen::SliceAttrs{start, end};
        s.c = __builtin_sub_overflow(end, start, &s.c) ? 1 : s.c;
        break;
      }
      case Op::kDropPath:
        l.attrs = modelgen::DropoutAttrs{in_.ConsumeProbability<double>()};
        break;
      case Op::kMul:
      case Op::kIdentity:
        break;
      case Op::kMaxPool2d:
      case Op::kAvgPool2d: {
        modelgen::Pool2dAttrs a;
        a.kernel = pair(1, 4);
        a.stride = in_.ConsumeBool() ? a.kernel : pair(1, 3);
        a.padding = in_.ConsumeBool() ? Hw{0, 0} : Hw{a.kernel.h / 2, a.kernel.w / 2};
        if (in_.ConsumeIntegralInRange(0, 15) == 0) a.padding = pair(0, 3);
        a.ceil_mode = in_.ConsumeBool();
        l.attrs = a;
        s.h = window(s.h, a.kernel.h, a.stride.h, a.padding.h, 1, a.ceil_mode);
        s.w = window(s.w, a.kernel.w, a.stride.w, a.padding.w, 1, a.ceil_mode);
        break;
      }
      case Op::kAdaptiveAvgPool2d:
        l.attrs = modelgen::AdaptivePool2dAttrs{pair(1, 4)};
        s.h = l.adaptive_pool().output_size.h;
        s.w = l.adaptive_pool().output_size.w;
        break;
      case Op::kFlatten:
        s = {s.flat ? s.c : mul(mul(s.c, s.h), s.w), 1, 1, true};
        break;
      case Op::kDropout:
        l.attrs = modelgen::DropoutAttrs{in_.ConsumeIntegralInRange(0, 15) == 0
                                             ? in_.ConsumeFloatingPoint<double>()
                                             : in_.ConsumeProbability<double>()};
        break;
      case Op::kAdd:
      case Op::kConcat:
        break;
    }
    shapes_.push_back(s);
    names_.push_back(l.name);
    return l;
  }

  // A classifier head on the latest tensor, as real networks end.
  void finish(modelgen::NetSpec& spec) {
    Shape s = shapes_.back();
    if (!s.flat) {
      modelgen::Layer flatten{"head_flatten", Op::kFlatten, {names_.back()}, std::monostate{}};
      spec.layers.push_back(flatten);
      s = {mul(mul(s.c, s.h), s.w), 1, 1, true};
      shapes_.push_back(s);
      names_.push_back(flatten.name);
    }
    modelgen::Layer fc{"head_fc", Op::kLinear, {names_.back()},
                       modelgen::LinearAttrs{s.c, spec.classes, in_.ConsumeBool()}};
    spec.layers.push_back(fc);
    shapes_.push_back({spec.classes, 1, 1, true});
    names_.push_back(fc.name);
  }

  FuzzedDataProvider& in_;
  std::vector<Shape> shapes_;        // [0] is the network input
  std::vector<std::string> names_;   // parallel to shapes_
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const modelgen::NetSpec built = Builder(in).build();
  const std::string text = fuzz::must_not_throw("netspec_to_json", [&] { return modelgen::netspec_to_json(built); });
  const auto spec = fuzz::only_throws<InputError>(
      "parse_netspec", "fuzz: ", [&] { return modelgen::parse_netspec(text, "fuzz"); });
  if (!spec) return 0;
  P4S_FUZZ_CHECK(*spec == built, "the reader changed the spec:\n" + text);
  fuzz::check_accepted_netspec(*spec);

  const int level = in.ConsumeIntegralInRange(0, modelgen::kMaxPrunePercent);
  const uint64_t seed = in.ConsumeIntegral<uint64_t>();
  const auto pruned = fuzz::only_throws<modelgen::PruneError>("RandomChannelPruner::prune", "", [&] {
    return modelgen::RandomChannelPruner(*spec).prune(level, seed, "pruned");
  });
  if (!pruned) return 0;
  P4S_FUZZ_CHECK(pruned->params_after <= pruned->params_before, "pruning added parameters");
  P4S_FUZZ_CHECK(level == 0 || pruned->reduction_percent() >= level,
                 "pruned " + std::to_string(pruned->reduction_percent()) + "% for a level of " +
                     std::to_string(level));
  fuzz::must_not_throw("infer_shapes of a pruned spec",
                       [&] { return modelgen::infer_shapes(pruned->spec, "pruned"); });
  return 0;
}
