// AlexNet as torchvision.models.alexnet builds it: features_0..12, avgpool (adaptive, 6x6),
// flatten, classifier_0..6 (dropout 0.5, linear 4096, ReLU, dropout 0.5, linear 4096, ReLU,
// linear to the classes).
//
// CIFAR variant: features_0 is a 3x3 stride-1 convolution with padding 1 and the three max
// pools are 2x2 with stride 2, so the features end at 256x4x4; there is no adaptive pooling,
// and the classifier keeps torchvision's layout with 1024 hidden features instead of 4096.
#include <string>

#include "modelgen/families/family_builders.hpp"
#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {

NetSpec build_alexnet(const FamilySpec& spec) {
  const bool cifar = spec.cifar();
  const int64_t pool_kernel = cifar ? 2 : 3;
  NetBuilder b(spec.name, spec.input(), spec.classes());
  Tensor x = cifar ? b.conv2d("features_0", b.input(), spec.scale(64), 3, 1, 1, 1, true)
                   : b.conv2d("features_0", b.input(), spec.scale(64), 11, 4, 2, 1, true);
  x = b.relu("features_1", x);
  x = b.maxpool2d("features_2", x, pool_kernel, 2);
  x = b.conv2d("features_3", x, spec.scale(192), 5, 1, 2, 1, true);
  x = b.relu("features_4", x);
  x = b.maxpool2d("features_5", x, pool_kernel, 2);
  x = b.conv2d("features_6", x, spec.scale(384), 3, 1, 1, 1, true);
  x = b.relu("features_7", x);
  x = b.conv2d("features_8", x, spec.scale(256), 3, 1, 1, 1, true);
  x = b.relu("features_9", x);
  x = b.conv2d("features_10", x, spec.scale(256), 3, 1, 1, 1, true);
  x = b.relu("features_11", x);
  x = b.maxpool2d("features_12", x, pool_kernel, 2);
  if (!cifar) x = b.adaptive_avgpool2d("avgpool", x, 6, 6);
  x = b.flatten("flatten", x);
  const int64_t hidden = spec.scale(cifar ? 1024 : 4096);
  x = b.dropout("classifier_0", x, 0.5);
  x = b.linear("classifier_1", x, hidden);
  x = b.relu("classifier_2", x);
  x = b.dropout("classifier_3", x, 0.5);
  x = b.linear("classifier_4", x, hidden);
  x = b.relu("classifier_5", x);
  x = b.linear("classifier_6", x, spec.classes());
  return std::move(b).finish(x);
}

}  // namespace p4s::modelgen
