// A small residual CNN of one's own, measured by perf4sight's Google Benchmark plugin: its
// training step at three batch sizes, beside the quick sweep's layer cases, from which
// `p4s fit` learns this machine's per-layer costs.
#include <perf4sight/benchmark.hpp>

#include <torch/torch.h>

namespace {

constexpr int64_t kClasses = 10;

torch::nn::Conv2dOptions conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  // No bias: the batch norm after each convolution has its own.
  return torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false);
}

// ResNet's basic block: two 3x3 convolutions with batch norms, and the input added back. Where
// the block changes the shape (stride or channels), a 1x1 convolution with a batch norm brings
// the input to it, as torchvision's `downsample` does.
struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride)
      : conv1(register_module("conv1", torch::nn::Conv2d(conv(in, out, 3, stride)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(out))),
        conv2(register_module("conv2", torch::nn::Conv2d(conv(out, out, 3, 1)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(out))) {
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample", torch::nn::Sequential(torch::nn::Conv2d(conv(in, out, 1, stride)), torch::nn::BatchNorm2d(out)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor identity = downsample ? downsample->forward(x) : x;
    const torch::Tensor y = bn2(conv2(torch::relu(bn1(conv1(x)))));
    return torch::relu(y + identity);
  }

  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// Stem (3x3 convolution to 16 channels), a block at 16 channels, a block down to half the
// size at 32, global average pooling and a linear classifier. The submodules' names become the
// NetSpec's layer names (layer2.downsample.0 -> layer2_downsample_0), which recipes such as
// --p4s_train_from=layer2 refer to.
struct TinyResNetImpl : torch::nn::Module {
  explicit TinyResNetImpl(int64_t classes)
      : conv1(register_module("conv1", torch::nn::Conv2d(conv(3, 16, 3, 1)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(16))),
        layer1(register_module("layer1", BasicBlock(16, 16, 1))),
        layer2(register_module("layer2", BasicBlock(16, 32, 2))),
        fc(register_module("fc", torch::nn::Linear(32, classes))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = layer2(layer1(torch::relu(bn1(conv1(x)))));
    y = torch::adaptive_avg_pool2d(y, {1, 1});
    return fc(torch::flatten(y, 1));
  }

  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  BasicBlock layer1;
  BasicBlock layer2;
  torch::nn::Linear fc;
};
TORCH_MODULE(TinyResNet);

// Registered while static objects are constructed, before main: P4S_BENCHMARK_MAIN() below
// makes the plugin keep these until it has read the --p4s_ flags (device, recipe,
// --p4s_netspec_out ...), and only then hand the cases to Google Benchmark.
const bool registered = [] {
  perf4sight::CaseOptions options;
  options.batches = {2, 8, 16};
  // The factory builds a fresh module for every case (and once more to describe it as a
  // NetSpec), so that no case starts from another's trained weights or optimizer state.
  perf4sight::RegisterModule(
      "tiny_resnet", [] { return torch::nn::AnyModule(TinyResNet(kClasses)); }, {3, 32, 32}, kClasses,
      options);
  // The quick sweep's single-layer steps: what `p4s fit` learns this machine's per-layer costs
  // from (three steps of one network alone would teach it little).
  perf4sight::RegisterLayerCases("quick");
  return true;
}();

}  // namespace

P4S_BENCHMARK_MAIN();
