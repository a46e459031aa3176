// RegNetY-400MF, -800MF and -1.6GF as torchvision.models.regnet_y_400mf ... build them: stem
// (3x3 stride 2 conv, BN, ReLU), four stages trunk_output_block1..4 of ResBottleneckBlocks
// (`trunk_output_block1_block1-0`: torchvision's module names have '-' there), avgpool,
// flatten and fc. A block: proj (1x1 conv and BN) where the width or stride changes; f_a (1x1
// conv, BN, ReLU), f_b (grouped 3x3 conv, BN, ReLU), f_se (squeeze-excitation with ReLU and
// Sigmoid, squeezing to round(0.25 x the block's input width)), f_c (1x1 conv, BN); then
// `proj(x) + f(x)` (or `x + f(x)`) and the block's ReLU. Stage depths, widths and group widths
// are torchvision's BlockParams for each network, bottleneck multiplier 1.
//
// Width: the generic rule on the stem and the stage widths, then torchvision's own
// _adjust_widths_groups_compatibilty: a group width is at most its stage's width and the
// stage width a multiple of it (_make_divisible(width, group width)).
//
// CIFAR variant: the stem and the first stage have stride 1, so the network ends at 4x4
// pixels; the rest is unchanged.
#include <algorithm>
#include <cmath>
#include <string>

#include "modelgen/families/blocks.hpp"
#include "modelgen/families/family_builders.hpp"

namespace p4s::modelgen {
namespace {

struct Stage {
  int64_t depth, width, group_width;
};

Tensor res_bottleneck(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                      int64_t stride, int64_t group_width) {
  const int64_t in = x.shape.channels;
  Tensor proj = x;
  if (in != out || stride != 1) proj = conv_norm_activation(b, p + "_proj", x, out, 1, stride, 1, std::nullopt);
  Tensor f = conv_norm_activation(b, p + "_f_a", x, out, 1, 1, 1, Op::kRelu);
  f = conv_norm_activation(b, p + "_f_b", f, out, 3, stride, out / group_width, Op::kRelu);
  // int(round(se_ratio * width_in)): Python's round() halves to even, as std::nearbyint.
  const auto squeeze = static_cast<int64_t>(std::nearbyint(0.25 * static_cast<double>(in)));
  f = squeeze_excitation(b, p + "_f_se", f, {squeeze, Op::kRelu, false, Op::kSigmoid});
  f = conv_norm_activation(b, p + "_f_c", f, out, 1, 1, 1, std::nullopt);
  const Tensor sum = b.add(p + "_add", proj, f);  // `proj(x) + f(x)`, `x + f(x)`
  return b.relu(p + "_activation", sum);
}

NetSpec build_regnety(const FamilySpec& spec, const Stage (&stages)[4]) {
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = conv_norm_activation(b, "stem", b.input(), spec.scale(32), 3, spec.cifar() ? 1 : 2, 1,
                                  Op::kRelu);
  for (int s = 0; s < 4; ++s) {
    const int64_t scaled = spec.scale(stages[s].width);
    const int64_t group_width = std::min(stages[s].group_width, scaled);
    const int64_t width = make_divisible(static_cast<double>(scaled), group_width);
    const std::string stage = "block" + std::to_string(s + 1);
    for (int64_t i = 0; i < stages[s].depth; ++i) {
      const int64_t stride = i > 0 || (spec.cifar() && s == 0) ? 1 : 2;
      x = res_bottleneck(b, "trunk_output_" + stage + "_" + stage + "-" + std::to_string(i), x, width,
                         stride, group_width);
    }
  }
  x = b.adaptive_avgpool2d("avgpool", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_regnety400mf(const FamilySpec& spec) {
  return build_regnety(spec, {{1, 48, 8}, {3, 104, 8}, {6, 208, 8}, {6, 440, 8}});
}
NetSpec build_regnety800mf(const FamilySpec& spec) {
  return build_regnety(spec, {{1, 64, 16}, {3, 144, 16}, {8, 320, 16}, {2, 784, 16}});
}
NetSpec build_regnety1_6gf(const FamilySpec& spec) {
  return build_regnety(spec, {{2, 48, 24}, {6, 120, 24}, {17, 336, 24}, {2, 888, 24}});
}

}  // namespace p4s::modelgen
