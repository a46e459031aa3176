#include "modelgen/families/blocks.hpp"

namespace p4s::modelgen {

Tensor conv_norm_activation(NetBuilder& b, const std::string& p, const Tensor& x, int64_t out,
                            int64_t kernel, int64_t stride, int64_t groups,
                            std::optional<Op> activation) {
  Tensor y = b.conv2d(p + "_0", x, out, kernel, stride, (kernel - 1) / 2, groups);
  y = b.batchnorm2d(p + "_1", y);
  if (activation) y = b.activation(*activation, p + "_2", y, true);
  return y;
}

Tensor squeeze_excitation(NetBuilder& b, const std::string& p, const Tensor& x,
                          const SqueezeExcitationSpec& se) {
  Tensor s = b.adaptive_avgpool2d(p + "_avgpool", x, 1, 1);
  s = b.conv2d(p + "_fc1", s, se.squeeze, 1, 1, 0, 1, true);
  s = b.activation(se.activation, p + "_activation", s, se.activation_inplace);
  s = b.conv2d(p + "_fc2", s, x.shape.channels, 1, 1, 0, 1, true);
  s = b.activation(se.scale_activation, p + "_scale_activation", s, false);
  // torchvision: `scale * input`, the scale first.
  return b.mul(p + "_mul", s, x);
}

}  // namespace p4s::modelgen
