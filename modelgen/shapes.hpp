// Validation and shape inference of a NetSpec. Shapes are per sample: every op of NetSpec 1.1
// treats samples independently, so a batch of N multiplies every tensor by N.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "modelgen/netspec.hpp"

namespace p4s::modelgen {

// One sample's activation: [channels, height, width], or [features] when flat.
struct TensorShape {
  int64_t channels = 0;  // features when flat
  int64_t height = 1;
  int64_t width = 1;
  bool flat = false;
  int64_t numel() const { return channels * height * width; }
  bool operator==(const TensorShape& o) const {
    return channels == o.channels && height == o.height && width == o.width && flat == o.flat;
  }
  bool operator!=(const TensorShape& o) const { return !(*this == o); }
  std::string str() const;  // "[64, 56, 56]" or "[1000]"
};

// What shape inference knows of one layer.
struct LayerShape {
  std::vector<int> inputs;  // producer layer indices; -1 is the network input
  TensorShape out;          // per sample
  int64_t params = 0;       // trainable parameters (weights, biases, BN affine)
  int64_t buffers = 0;      // non-trainable state (BN running mean and variance)
  int64_t forward_macs = 0; // per sample: multiply-accumulates of conv / linear
  bool requires_grad = false; // whether the output needs a gradient (depends on a parameter)
};

struct ShapedNet {
  TensorShape input;
  std::vector<LayerShape> layers;  // parallel to NetSpec::layers
  int output = -1;                 // index of the output layer
  int64_t params = 0;
  int64_t buffers = 0;
  int64_t forward_macs = 0;        // per sample

  // The shape of a producer index as used in LayerShape::inputs (-1 is the input).
  const TensorShape& shape_of(int producer) const {
    return producer < 0 ? input : layers[static_cast<size_t>(producer)].out;
  }
  // Floating-point operations of one training step at `batch`: forward 2*MACs, backward
  // 2*MACs for the weight gradient plus 2*MACs for the input gradient of every conv / linear
  // whose input needs a gradient (not the network input).
  int64_t training_flops(int64_t batch) const;
};

// Checks every rule of NetSpec 1.1 and infers shapes. Throws InputError naming `source`,
// the layer or field, and the problem. Size limits keep every product inside int64.
ShapedNet infer_shapes(const NetSpec& spec, const std::string& source = "<netspec>");

// Per-layer output size of a convolution or pooling window along one axis (PyTorch's rules,
// ceil mode included); may be <= 0 for windows that do not fit.
int64_t window_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode);

}  // namespace p4s::modelgen
