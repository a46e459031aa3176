// ConvNeXt-T as torchvision.models.convnext_tiny builds it: features_0 (4x4 stride-4 conv with
// bias, LayerNorm2d eps 1e-6), four stages of CNBlocks (features_1, 3, 5, 7) with downsampling
// between them (features_2, 4, 6: LayerNorm2d, 2x2 stride-2 conv), avgpool, classifier_0
// (LayerNorm2d), classifier_1 (flatten), classifier_2 (linear). A CNBlock: block_0 (7x7
// depthwise conv with bias), block_2 (torchvision's permuted nn.LayerNorm, eps 1e-6, written as
// layernorm2d), block_3 (torchvision's Linear(dim, 4 dim) on the permuted tensor, written as a
// 1x1 conv with bias), block_4 (GELU), block_5 (1x1 conv back to dim, with bias), layer_scale
// (the per-channel factor), stochastic_depth (p = 0.1 x block / (blocks - 1), as torchvision)
// and `result += input` (`<block>_add`). The permutes (block_1, block_6) move no data that
// NetSpec sees and make no layer.
//
// CIFAR variant: the stem is a 3x3 stride-1 convolution with padding 1 (bias kept), so the
// stages run at 32, 16, 8 and 4 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

constexpr double kEps = 1e-6;

Tensor cn_block(NetBuilder& b, const std::string& p, const Tensor& x, double drop_path) {
  const int64_t dim = x.shape.channels;
  Tensor y = b.conv2d(p + "_block_0", x, dim, 7, 1, 3, dim, true);
  y = b.layernorm2d(p + "_block_2", y, kEps);
  y = b.conv2d(p + "_block_3", y, 4 * dim, 1, 1, 0, 1, true);
  y = b.activation(Op::kGelu, p + "_block_4", y, false);
  y = b.conv2d(p + "_block_5", y, dim, 1, 1, 0, 1, true);
  y = b.scale(p + "_layer_scale", y);
  y = b.drop_path(p + "_stochastic_depth", y, drop_path);
  return b.add(p + "_add", y, x);
}

}  // namespace

NetSpec build_convnexttiny(const FamilySpec& spec) {
  const int depths[4] = {3, 3, 9, 3};
  const int64_t dims[4] = {spec.scale(96), spec.scale(192), spec.scale(384), spec.scale(768)};
  const int total = 18;
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = spec.cifar() ? b.conv2d("features_0_0", b.input(), dims[0], 3, 1, 1, 1, true)
                          : b.conv2d("features_0_0", b.input(), dims[0], 4, 4, 0, 1, true);
  x = b.layernorm2d("features_0_1", x, kEps);
  int block_id = 0;
  for (int s = 0; s < 4; ++s) {
    const std::string stage = "features_" + std::to_string(2 * s + 1);
    for (int i = 0; i < depths[s]; ++i) {
      // Python: stochastic_depth_prob * stage_block_id / (total_stage_blocks - 1.0).
      const double p = 0.1 * static_cast<double>(block_id++) / (total - 1.0);
      x = cn_block(b, stage + "_" + std::to_string(i), x, p);
    }
    if (s == 3) break;
    const std::string down = "features_" + std::to_string(2 * s + 2);
    x = b.layernorm2d(down + "_0", x, kEps);
    x = b.conv2d(down + "_1", x, dims[s + 1], 2, 2, 0, 1, true);
  }
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.layernorm2d("classifier_0", x, kEps);
  x = b.flatten("classifier_1", x);
  x = b.linear("classifier_2", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
