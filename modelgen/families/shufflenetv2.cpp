// ShuffleNetV2 x0.5, x1.0, x1.5, x2.0 as torchvision.models.shufflenet_v2_x0_5 ... build them:
// conv1 (3x3 stride 2, BN, ReLU), maxpool, stages stage2..4 of units, conv5 (1x1, BN, ReLU),
// the mean over height and width (written as adaptive average pooling `mean` and `flatten`),
// and fc. A stride-2 unit has two branches (branch1: depthwise conv, BN, 1x1 conv, BN, ReLU;
// branch2: 1x1 conv, BN, ReLU, depthwise conv, BN, 1x1 conv, BN, ReLU), concatenated; a
// stride-1 unit splits its input with `x.chunk(2, dim=1)` (two slices, `<unit>_chunk_0` and
// `<unit>_chunk_1`), runs branch2 on the second half and concatenates it after the first.
// Every unit ends with channel_shuffle(out, 2) (`<unit>_channel_shuffle`).
//
// Width: the generic rule on each stage's branch width (half its output, so that outputs stay
// even, as the units need), on conv1's and on conv5's widths.
//
// CIFAR variant: conv1 has stride 1 and the max pool is left out, so the stages run at 16, 8
// and 4 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

Tensor branch2(NetBuilder& b, const std::string& p, const Tensor& x, int64_t features, int64_t stride) {
  Tensor y = b.conv2d(p + "_0", x, features, 1);
  y = b.batchnorm2d(p + "_1", y);
  y = b.relu(p + "_2", y);
  y = b.conv2d(p + "_3", y, features, 3, stride, 1, features);
  y = b.batchnorm2d(p + "_4", y);
  y = b.conv2d(p + "_5", y, features, 1);
  y = b.batchnorm2d(p + "_6", y);
  return b.relu(p + "_7", y);
}

Tensor unit(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out, int64_t stride) {
  const int64_t features = out / 2;
  Tensor cat;
  if (stride == 1) {
    const int64_t half = x.shape.channels / 2;
    const Tensor x1 = b.slice(p + "_chunk_0", x, 0, half);
    const Tensor x2 = b.slice(p + "_chunk_1", x, half, x.shape.channels);
    cat = b.concat(p + "_cat", {x1, branch2(b, p + "_branch2", x2, features, 1)});
  } else {
    const int64_t in = x.shape.channels;
    Tensor y = b.conv2d(p + "_branch1_0", x, in, 3, stride, 1, in);
    y = b.batchnorm2d(p + "_branch1_1", y);
    y = b.conv2d(p + "_branch1_2", y, features, 1);
    y = b.batchnorm2d(p + "_branch1_3", y);
    y = b.relu(p + "_branch1_4", y);
    cat = b.concat(p + "_cat", {y, branch2(b, p + "_branch2", x, features, stride)});
  }
  return b.channel_shuffle(p + "_channel_shuffle", cat, 2);
}

NetSpec build_shufflenetv2(const FamilySpec& spec, const int64_t (&widths)[5]) {
  const int repeats[3] = {4, 8, 4};
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = b.conv2d("conv1_0", b.input(), spec.scale(widths[0]), 3, spec.cifar() ? 1 : 2, 1);
  x = b.batchnorm2d("conv1_1", x);
  x = b.relu("conv1_2", x);
  if (!spec.cifar()) x = b.maxpool2d("maxpool", x, 3, 2, 1);
  for (int s = 0; s < 3; ++s) {
    const int64_t out = 2 * spec.scale(widths[s + 1] / 2);
    for (int i = 0; i < repeats[s]; ++i)
      x = unit(b, "stage" + std::to_string(s + 2) + "_" + std::to_string(i), x, out, i == 0 ? 2 : 1);
  }
  x = b.conv2d("conv5_0", x, spec.scale(widths[4]), 1);
  x = b.batchnorm2d("conv5_1", x);
  x = b.relu("conv5_2", x);
  x = b.adaptive_avgpool2d("mean", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.linear("fc", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_shufflenetv2x0_5(const FamilySpec& spec) { return build_shufflenetv2(spec, {24, 48, 96, 192, 1024}); }
NetSpec build_shufflenetv2x1_0(const FamilySpec& spec) { return build_shufflenetv2(spec, {24, 116, 232, 464, 1024}); }
NetSpec build_shufflenetv2x1_5(const FamilySpec& spec) { return build_shufflenetv2(spec, {24, 176, 352, 704, 1024}); }
NetSpec build_shufflenetv2x2_0(const FamilySpec& spec) { return build_shufflenetv2(spec, {24, 244, 488, 976, 2048}); }

}  // namespace p4s::modelgen
