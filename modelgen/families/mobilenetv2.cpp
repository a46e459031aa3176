// MobileNetV2 as torchvision.models.mobilenet_v2 builds it: features_0 (conv, BN, ReLU6),
// 17 inverted residual blocks features_1..17 (no expansion convolution where t = 1), the last
// 1x1 conv features_18, global average pooling, flatten, classifier_0 (dropout 0.2) and
// classifier_1. The width multiplier is torchvision's: channels scaled and rounded to
// multiples of 8, the last layer never narrower than 1280.
//
// CIFAR variant: the stem convolution has stride 1 and the second stage (24 channels) stride 1,
// so the network ends at 4x4 pixels; the rest is unchanged.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

Tensor conv_bn_relu6(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                     int64_t kernel, int64_t stride, int64_t groups) {
  Tensor y = b.conv2d(p + "_0", x, out, kernel, stride, (kernel - 1) / 2, groups);
  y = b.batchnorm2d(p + "_1", y);
  return b.relu6(p + "_2", y);
}

Tensor inverted_residual(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                         int64_t stride, int64_t expand_ratio) {
  const int64_t in = x.shape.channels;
  const int64_t hidden = in * expand_ratio;  // int(round(inp * t)) with an integer t
  Tensor y = x;
  int index = 0;
  if (expand_ratio != 1) y = conv_bn_relu6(b, p + "_conv_" + std::to_string(index++), y, hidden, 1, 1, 1);
  y = conv_bn_relu6(b, p + "_conv_" + std::to_string(index++), y, hidden, 3, stride, hidden);
  y = b.conv2d(p + "_conv_" + std::to_string(index++), y, out, 1, 1, 0);
  y = b.batchnorm2d(p + "_conv_" + std::to_string(index++), y);
  // torchvision: `x + self.conv(x)`, the block input first.
  if (stride == 1 && in == out) y = b.add(p + "_add", x, y);
  return y;
}

}  // namespace

NetSpec build_mobilenetv2(const FamilySpec& spec) {
  struct Stage {
    int64_t t, c, n, s;
  };
  const Stage stages[] = {{1, 16, 1, 1},  {6, 24, 2, spec.cifar() ? 1 : 2}, {6, 32, 3, 2},
                          {6, 64, 4, 2},  {6, 96, 3, 1},                    {6, 160, 3, 2},
                          {6, 320, 1, 1}};
  const double w = spec.width();
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = conv_bn_relu6(b, "features_0", b.input(), make_divisible(32 * w, 8), 3,
                           spec.cifar() ? 1 : 2, 1);
  int index = 1;
  for (const Stage& st : stages) {
    const int64_t out = make_divisible(static_cast<double>(st.c) * w, 8);
    for (int64_t i = 0; i < st.n; ++i)
      x = inverted_residual(b, "features_" + std::to_string(index++), x, out, i == 0 ? st.s : 1, st.t);
  }
  const int64_t last = make_divisible(1280 * (w > 1.0 ? w : 1.0), 8);
  x = conv_bn_relu6(b, "features_" + std::to_string(index), x, last, 1, 1, 1);
  x = b.adaptive_avgpool2d("adaptive_avg_pool2d", x, 1, 1);
  x = b.flatten("flatten", x);
  x = b.dropout("classifier_0", x, 0.2);
  x = b.linear("classifier_1", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
