// VGG-11 and VGG-16, with and without batch norm, as torchvision.models.vgg11 / vgg11_bn /
// vgg16 / vgg16_bn build them: features_<i> numbered as torchvision's Sequential (conv with
// bias, [BN,] ReLU, max pool 2x2), avgpool (adaptive, 7x7), flatten, classifier_0..6 (linear
// 4096, ReLU, dropout 0.5, linear 4096, ReLU, dropout 0.5, linear to the classes).
//
// CIFAR variant: the five max pools take 32 pixels down to 1, so there is no adaptive
// pooling, and the classifier keeps torchvision's layout with 512 hidden features
// (512 -> 512 -> 512 -> classes).
#include <string>
#include <vector>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {
namespace {

constexpr int kPool = 0;  // "M" in torchvision's configurations
const std::vector<int> kConfigA = {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
const std::vector<int> kConfigD = {64,  64,  kPool, 128, 128, kPool, 256, 256, 256, kPool,
                                   512, 512, 512,   kPool, 512, 512, 512, kPool};

NetSpec build_vgg(const FamilySpec& spec, const std::vector<int>& config, bool batch_norm) {
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = b.input();
  int index = 0;
  auto next = [&index] { return "features_" + std::to_string(index++); };
  for (int v : config) {
    if (v == kPool) {
      x = b.maxpool2d(next(), x, 2, 2);
      continue;
    }
    x = b.conv2d(next(), x, spec.scale(v), 3, 1, 1, 1, true);
    if (batch_norm) x = b.batchnorm2d(next(), x);
    x = b.relu(next(), x);
  }
  if (!spec.cifar()) x = b.adaptive_avgpool2d("avgpool", x, 7, 7);
  x = b.flatten("flatten", x);
  const int64_t hidden = spec.scale(spec.cifar() ? 512 : 4096);
  x = b.linear("classifier_0", x, hidden);
  x = b.relu("classifier_1", x);
  x = b.dropout("classifier_2", x, 0.5);
  x = b.linear("classifier_3", x, hidden);
  x = b.relu("classifier_4", x);
  x = b.dropout("classifier_5", x, 0.5);
  x = b.linear("classifier_6", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace

NetSpec build_vgg11(const FamilySpec& spec) { return build_vgg(spec, kConfigA, false); }
NetSpec build_vgg11bn(const FamilySpec& spec) { return build_vgg(spec, kConfigA, true); }
NetSpec build_vgg16(const FamilySpec& spec) { return build_vgg(spec, kConfigD, false); }
NetSpec build_vgg16bn(const FamilySpec& spec) { return build_vgg(spec, kConfigD, true); }

}  // namespace p4s::modelgen
