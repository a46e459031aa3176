// Small LibTorch C++ modules that no NetSpec describes, for the plugin's tests: a residual CNN
// written as people write them (submodules, an in-place ReLU, a downsampling shortcut), and
// one with an op outside NetSpec.
#pragma once

#include <torch/nn/functional/activation.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <cstdint>

namespace p4s::test {

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(out))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      down_conv = register_module("down_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
      down_bn = register_module("down_bn", torch::nn::BatchNorm2d(out));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    const torch::Tensor shortcut = down_conv ? down_bn(down_conv(x)) : x;
    return torch::relu(y + shortcut);
  }
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Conv2d down_conv{nullptr};
  torch::nn::BatchNorm2d down_bn{nullptr};
};
TORCH_MODULE(BasicBlock);

struct TinyResNetImpl : torch::nn::Module {
  explicit TinyResNetImpl(int64_t classes)
      : stem(register_module("stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1).bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(8))),
        layer1(register_module("layer1", BasicBlock(8, 8, 1))),
        layer2(register_module("layer2", BasicBlock(8, 16, 2))),
        fc(register_module("fc", torch::nn::Linear(16, classes))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = bn(stem(x));
    x.relu_();
    x = layer2(layer1(x));
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc(x);
  }
  torch::nn::Conv2d stem;
  torch::nn::BatchNorm2d bn;
  BasicBlock layer1, layer2;
  torch::nn::Linear fc;
};
TORCH_MODULE(TinyResNet);

// abs() is no NetSpec op: the module trains, but cannot be described.
struct AbsNetImpl : torch::nn::Module {
  explicit AbsNetImpl(int64_t classes)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3)))),
        fc(register_module("fc", torch::nn::Linear(4, classes))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return fc(torch::adaptive_avg_pool2d(conv(x).abs(), {1, 1}).flatten(1));
  }
  torch::nn::Conv2d conv;
  torch::nn::Linear fc;
};
TORCH_MODULE(AbsNet);

}  // namespace p4s::test
