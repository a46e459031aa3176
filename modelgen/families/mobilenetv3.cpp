// MobileNetV3 Small and Large as torchvision.models.mobilenet_v3_small / _large build them:
// features_0 (conv, BN, Hardswish), the inverted residual blocks features_1..N (an expansion
// conv only where the expanded width differs from the input's; depthwise conv; optional
// squeeze-excitation with ReLU and Hardsigmoid; projection conv and BN; `result += input`
// where stride 1 and widths match), the last 1x1 conv (6x the last block's width, Hardswish),
// avgpool, flatten, classifier_0 (linear), classifier_1 (Hardswish), classifier_2 (dropout
// 0.2) and classifier_3. The width multiplier is torchvision's `width_mult`: every width
// _make_divisible(c * w, 8), the penultimate linear width too.
//
// CIFAR variant: the stem convolution and the first stride-2 block have stride 1, so the
// network ends at 4x4 pixels; the rest is unchanged.
#include <optional>
#include <string>
#include <vector>

#include "modelgen/families/blocks.hpp"
#include "modelgen/families/family_builders.hpp"

namespace p4s::modelgen {
namespace {

// torchvision's InvertedResidualConfig before width adjustment; `hs`: Hardswish, else ReLU.
struct BlockConfig {
  int64_t in, kernel, expanded, out;
  bool se, hs;
  int64_t stride;
};

Tensor inverted_residual(NetBuilder& b, const std::string& p, const Tensor& x, int64_t kernel,
                         int64_t expanded, int64_t out, bool se, bool hs, int64_t stride) {
  const Op act = hs ? Op::kHardswish : Op::kRelu;
  const int64_t in = x.shape.channels;
  Tensor y = x;
  int index = 0;
  auto next = [&] { return p + "_block_" + std::to_string(index++); };
  if (expanded != in) y = conv_norm_activation(b, next(), y, expanded, 1, 1, 1, act);
  y = conv_norm_activation(b, next(), y, expanded, kernel, stride, expanded, act);
  if (se)
    y = squeeze_excitation(b, next(), y,
                           {make_divisible(static_cast<double>(expanded / 4), 8), Op::kRelu, false,
                            Op::kHardsigmoid});
  y = conv_norm_activation(b, next(), y, out, 1, 1, 1, std::nullopt);
  if (stride == 1 && in == out) y = b.add(p + "_add", y, x);  // `result += input`
  return y;
}

NetSpec build_mobilenetv3(const FamilySpec& spec, const std::vector<BlockConfig>& blocks,
                          int64_t last_channel) {
  const double w = spec.width();
  auto adjust = [w](int64_t c) { return make_divisible(static_cast<double>(c) * w, 8); };
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = conv_norm_activation(b, "features_0", b.input(), adjust(blocks.front().in), 3,
                                  spec.cifar() ? 1 : 2, 1, Op::kHardswish);
  bool reduced = false;  // CIFAR: the first stride-2 block keeps the resolution
  int index = 1;
  for (const BlockConfig& c : blocks) {
    int64_t stride = c.stride;
    if (spec.cifar() && stride == 2 && !reduced) {
      stride = 1;
      reduced = true;
    }
    x = inverted_residual(b, "features_" + std::to_string(index++), x, c.kernel, adjust(c.expanded),
                          adjust(c.out), c.se, c.hs, stride);
  }
  x = conv_norm_activation(b, "features_" + std::to_string(index), x, 6 * x.shape.channels, 1, 1, 1,
                           Op::kHardswish);
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("classifier_0", x, adjust(last_channel));
  x = b.activation(Op::kHardswish, "classifier_1", x, true);
  x = b.dropout("classifier_2", x, 0.2);
  x = b.linear("classifier_3", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_mobilenetv3small(const FamilySpec& spec) {
  const std::vector<BlockConfig> blocks = {
      {16, 3, 16, 16, true, false, 2},   {16, 3, 72, 24, false, false, 2},
      {24, 3, 88, 24, false, false, 1},  {24, 5, 96, 40, true, true, 2},
      {40, 5, 240, 40, true, true, 1},   {40, 5, 240, 40, true, true, 1},
      {40, 5, 120, 48, true, true, 1},   {48, 5, 144, 48, true, true, 1},
      {48, 5, 288, 96, true, true, 2},   {96, 5, 576, 96, true, true, 1},
      {96, 5, 576, 96, true, true, 1},
  };
  return build_mobilenetv3(spec, blocks, 1024);
}

NetSpec build_mobilenetv3large(const FamilySpec& spec) {
  const std::vector<BlockConfig> blocks = {
      {16, 3, 16, 16, false, false, 1},    {16, 3, 64, 24, false, false, 2},
      {24, 3, 72, 24, false, false, 1},    {24, 5, 72, 40, true, false, 2},
      {40, 5, 120, 40, true, false, 1},    {40, 5, 120, 40, true, false, 1},
      {40, 3, 240, 80, false, true, 2},    {80, 3, 200, 80, false, true, 1},
      {80, 3, 184, 80, false, true, 1},    {80, 3, 184, 80, false, true, 1},
      {80, 3, 480, 112, true, true, 1},    {112, 3, 672, 112, true, true, 1},
      {112, 5, 672, 160, true, true, 2},   {160, 5, 960, 160, true, true, 1},
      {160, 5, 960, 160, true, true, 1},
  };
  return build_mobilenetv3(spec, blocks, 1280);
}

}  // namespace p4s::modelgen
