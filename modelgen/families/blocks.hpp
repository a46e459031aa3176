// Internal to modelgen: blocks that several families share, written as torchvision's modules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "modelgen/net_builder.hpp"

namespace p4s::modelgen {

// torchvision.ops.Conv2dNormActivation: conv `<p>_0` (no bias, padding (kernel - 1) / 2), BN
// `<p>_1`, and, unless `activation` is empty, the activation `<p>_2`, in place as torchvision
// makes it.
Tensor conv_norm_activation(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                            int64_t kernel, int64_t stride, int64_t groups,
                            std::optional<Op> activation);

// torchvision.ops.SqueezeExcitation at `p`: avgpool (1x1), fc1 (conv with bias), activation
// (not in place unless torchvision makes it so), fc2 (conv with bias), scale_activation (not
// in place), then `scale * input` as `<p>_mul`.
struct SqueezeExcitationSpec {
  int64_t squeeze = 0;
  Op activation = Op::kRelu;
  bool activation_inplace = false;
  Op scale_activation = Op::kSigmoid;
};
Tensor squeeze_excitation(NetBuilder& b, const std::string& p, const Tensor& x,
                          const SqueezeExcitationSpec& se);

}  // namespace p4s::modelgen
