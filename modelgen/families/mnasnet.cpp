// MnasNet-B1 as torchvision.models.mnasnet1_0 builds it (model version 2, whose stem follows
// the depth multiplier): layers_0..7 (stem and a depthwise-separable block), six stacks of
// inverted residuals layers_8..13, layers_14..16 (1x1 conv to 1280, BN, ReLU), the mean over
// height and width (written as adaptive average pooling `mean` and `flatten`), classifier_0
// (dropout 0.2) and classifier_1. The width multiplier is torchvision's `alpha`: depths scaled
// with _round_to_multiple_of(depth * alpha, 8); the 1280-channel head is not scaled.
//
// CIFAR variant: the stem convolution and the first stack (layers_8) have stride 1, so the
// network ends at 4x4 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

Tensor inverted_residual(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                         int64_t kernel, int64_t stride, int64_t expansion) {
  const int64_t in = x.shape.channels;
  const int64_t mid = in * expansion;
  Tensor y = b.conv2d(p + "_layers_0", x, mid, 1, 1, 0);
  y = b.batchnorm2d(p + "_layers_1", y);
  y = b.relu(p + "_layers_2", y);
  y = b.conv2d(p + "_layers_3", y, mid, kernel, stride, kernel / 2, mid);
  y = b.batchnorm2d(p + "_layers_4", y);
  y = b.relu(p + "_layers_5", y);
  y = b.conv2d(p + "_layers_6", y, out, 1, 1, 0);
  y = b.batchnorm2d(p + "_layers_7", y);
  // torchvision: `self.layers(input) + input`.
  if (in == out && stride == 1) y = b.add(p + "_add", y, x);
  return y;
}

}  // namespace

NetSpec build_mnasnet1_0(const FamilySpec& spec) {
  const double alpha = spec.width();
  int64_t d[8];
  const int64_t base[8] = {32, 16, 24, 40, 80, 96, 192, 320};
  for (int i = 0; i < 8; ++i) d[i] = round_to_multiple_of(static_cast<double>(base[i]) * alpha, 8);

  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = b.conv2d("layers_0", b.input(), d[0], 3, spec.cifar() ? 1 : 2, 1);
  x = b.batchnorm2d("layers_1", x);
  x = b.relu("layers_2", x);
  x = b.conv2d("layers_3", x, d[0], 3, 1, 1, d[0]);
  x = b.batchnorm2d("layers_4", x);
  x = b.relu("layers_5", x);
  x = b.conv2d("layers_6", x, d[1], 1, 1, 0);
  x = b.batchnorm2d("layers_7", x);
  struct Stack {
    int64_t out, kernel, stride, expansion, repeats;
  };
  const Stack stacks[] = {{d[2], 3, spec.cifar() ? 1 : 2, 3, 3},
                          {d[3], 5, 2, 3, 3},
                          {d[4], 5, 2, 6, 3},
                          {d[5], 3, 1, 6, 2},
                          {d[6], 5, 2, 6, 4},
                          {d[7], 3, 1, 6, 1}};
  int index = 8;
  for (const Stack& s : stacks) {
    const std::string p = "layers_" + std::to_string(index++);
    for (int64_t i = 0; i < s.repeats; ++i)
      x = inverted_residual(b, p + "_" + std::to_string(i), x, s.out, s.kernel, i == 0 ? s.stride : 1,
                            s.expansion);
  }
  x = b.conv2d("layers_14", x, 1280, 1, 1, 0);
  x = b.batchnorm2d("layers_15", x);
  x = b.relu("layers_16", x);
  x = b.adaptive_avgpool2d("mean", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.dropout("classifier_0", x, 0.2);
  x = b.linear("classifier_1", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
