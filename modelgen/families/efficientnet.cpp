// EfficientNet-B0..B3 as torchvision.models.efficientnet_b0..b3 build them: features_0 (conv,
// BN, SiLU), seven stages features_1..7 of MBConv blocks (expansion conv where the expanded
// width differs from the input's, depthwise conv, squeeze-excitation with SiLU and Sigmoid,
// projection conv and BN; where stride 1 and widths match, stochastic depth and
// `result += input`), features_8 (1x1 conv to 4x the last width, BN, SiLU), avgpool, flatten,
// classifier_0 (dropout) and classifier_1. Depth and width multipliers as torchvision's
// (B1 1.0 / 1.1, B2 1.1 / 1.2, B3 1.2 / 1.4); a network's width multiplier multiplies the
// family's, and widths are _make_divisible(c * width, 8) as torchvision's.
//
// Stochastic depth: p = 0.2 * block / blocks, counted over all blocks as torchvision does. A
// block without the residual has the module in torchvision but never calls it, so it has no
// drop_path layer here.
//
// CIFAR variant: the stem convolution and the second stage (24 channels) have stride 1, so
// the network ends at 4x4 pixels; the rest is unchanged.
#include <algorithm>
#include <cmath>
#include <string>

#include "modelgen/families/blocks.hpp"
#include "modelgen/families/family_builders.hpp"

namespace p4s::modelgen {
namespace {

struct Variant {
  double width, depth, dropout;
};

struct StageConfig {  // torchvision's MBConvConfig before the multipliers
  int64_t expand, kernel, stride, in, out, layers;
};

struct Block {
  int64_t in, out, kernel, stride, expand;
  double drop_path;
};

Tensor mbconv(NetBuilder& b, const std::string& p, const Tensor& x, const Block& c) {
  const int64_t expanded = make_divisible(static_cast<double>(c.in * c.expand), 8);
  Tensor y = x;
  int index = 0;
  auto next = [&] { return p + "_block_" + std::to_string(index++); };
  if (expanded != c.in) y = conv_norm_activation(b, next(), y, expanded, 1, 1, 1, Op::kSilu);
  y = conv_norm_activation(b, next(), y, expanded, c.kernel, c.stride, expanded, Op::kSilu);
  // SiLU in place: torchvision passes partial(nn.SiLU, inplace=True).
  y = squeeze_excitation(b, next(), y, {std::max<int64_t>(1, c.in / 4), Op::kSilu, true, Op::kSigmoid});
  y = conv_norm_activation(b, next(), y, c.out, 1, 1, 1, std::nullopt);
  if (c.stride == 1 && c.in == c.out) {
    y = b.drop_path(p + "_stochastic_depth", y, c.drop_path);
    y = b.add(p + "_add", y, x);  // `result += input`
  }
  return y;
}

NetSpec build_efficientnet(const FamilySpec& spec, const Variant& v) {
  const StageConfig stages[] = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},
                                {6, 3, 2, 40, 80, 3},  {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4},
                                {6, 3, 1, 192, 320, 1}};
  const double width = v.width * spec.width();
  auto adjust = [width](int64_t c) { return make_divisible(static_cast<double>(c) * width, 8); };
  auto depth = [&v](int64_t n) { return static_cast<int64_t>(std::ceil(static_cast<double>(n) * v.depth)); };
  int64_t total = 0;
  for (const StageConfig& s : stages) total += depth(s.layers);

  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = conv_norm_activation(b, "features_0", b.input(), adjust(stages[0].in), 3,
                                  spec.cifar() ? 1 : 2, 1, Op::kSilu);
  int64_t block_id = 0;
  for (int s = 0; s < 7; ++s) {
    const StageConfig& c = stages[s];
    const int64_t stride = spec.cifar() && s == 1 ? 1 : c.stride;
    for (int64_t i = 0; i < depth(c.layers); ++i) {
      // Python: stochastic_depth_prob * float(stage_block_id) / total_stage_blocks.
      const double p = 0.2 * static_cast<double>(block_id++) / static_cast<double>(total);
      const Block block{x.shape.channels, adjust(c.out), c.kernel, i == 0 ? stride : 1, c.expand, p};
      x = mbconv(b, "features_" + std::to_string(s + 1) + "_" + std::to_string(i), x, block);
    }
  }
  x = conv_norm_activation(b, "features_8", x, 4 * x.shape.channels, 1, 1, 1, Op::kSilu);
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.dropout("classifier_0", x, v.dropout);
  x = b.linear("classifier_1", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_efficientnetb0(const FamilySpec& spec) { return build_efficientnet(spec, {1.0, 1.0, 0.2}); }
NetSpec build_efficientnetb1(const FamilySpec& spec) { return build_efficientnet(spec, {1.0, 1.1, 0.2}); }
NetSpec build_efficientnetb2(const FamilySpec& spec) { return build_efficientnet(spec, {1.1, 1.2, 0.3}); }
NetSpec build_efficientnetb3(const FamilySpec& spec) { return build_efficientnet(spec, {1.2, 1.4, 0.3}); }

}  // namespace p4s::modelgen
