// NetSpec -> a trainable LibTorch module that runs the layer DAG in the file's order, with
// PyTorch's default initialisation and PyTorch's semantics for every op (see README, NetSpec
// v1): in-place activations really run in place, flatten is a view, concat joins channels.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen_torch {

// One NetSpec layer as LibTorch: the module that holds its parameters and buffers (conv2d,
// batchnorm2d, linear; none for the other ops) and the call that runs it.
class LayerRunner {
 public:
  // Builds the layer's module, initialised as PyTorch initialises it.
  // Precondition: the layer passed modelgen::infer_shapes (its attributes are valid).
  explicit LayerRunner(const modelgen::Layer& layer);

  // Runs the layer on its inputs, in the order of the layer's `inputs`. `training` is the
  // owning module's mode: dropout drops only in training (batch norm follows its module).
  torch::Tensor run(const std::vector<torch::Tensor>& inputs, bool training) const {
    return run_(inputs, training);
  }

  // The module with the layer's parameters and buffers, or null for ops that have none.
  const std::shared_ptr<torch::nn::Module>& module() const { return module_; }
  modelgen::Op op() const { return op_; }

 private:
  using RunFn = std::function<torch::Tensor(const std::vector<torch::Tensor>&, bool)>;
  modelgen::Op op_;
  std::shared_ptr<torch::nn::Module> module_;
  RunFn run_;
};

// A whole network. Each layer's module is a child named after the layer ('.' becomes '_',
// since LibTorch refuses dots in module names).
class NetImpl : public torch::nn::Module {
 public:
  // Validates `spec` (modelgen::infer_shapes; throws InputError naming `source`)
  // and builds every layer on the CPU; move it with `to(device)`.
  explicit NetImpl(const modelgen::NetSpec& spec, const std::string& source = "<netspec>");

  // input: float [N, channels, height, width] of the spec's input. Returns the output
  // layer's [N, classes] logits. Every intermediate tensor is dropped after its last
  // consumer runs, as Python drops locals, so the forward pass holds no more than PyTorch's.
  torch::Tensor forward(const torch::Tensor& input);

  // Freezes the parameters of the layers before `first` (a layer's name; empty: none), and with
  // `eval_bn` puts those layers' batch norms in eval mode. Returns the parameters that still
  // train, in registration order. Throws InputError naming `source` for a name no layer has.
  std::vector<torch::Tensor> freeze_before(const std::string& first, bool eval_bn, const std::string& source);

  const modelgen::NetSpec& spec() const { return spec_; }
  const modelgen::ShapedNet& shapes() const { return shapes_; }

 private:
  modelgen::NetSpec spec_;
  modelgen::ShapedNet shapes_;
  std::vector<LayerRunner> layers_;
  std::vector<size_t> last_use_;  // per layer: index of its last consumer (itself if none)
};

// A module holder (shared ownership), as LibTorch's TORCH_MODULE declares for its own modules.
TORCH_MODULE(Net);

// The number of trainable parameter elements of a module and its children.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace p4s::modelgen_torch
