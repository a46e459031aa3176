// TorchScript -> NetSpec 1.1: a traced or scripted CNN (torch.jit.save /
// torch::jit::Module::save) as the list of layers that NetSpec can say.
//
// The model's forward graph is walked as it runs: every node is executed by LibTorch itself on
// a random batch of the given input size (so sizes, list arithmetic and control flow that
// depend on attributes or shapes come out exactly as at training time), calls into submodules
// and TorchScript functions are followed (their module paths name the layers, as torchvision's
// module names: layer1.0.conv1 -> layer1_0_conv1), and each op on the network's activations
// becomes a layer whose attributes come from its arguments and its parameters' shapes:
//
//   conv2d            aten::_convolution, aten::convolution, aten::conv2d (not transposed);
//                     aten::linear on a channels-last activation (below): a 1x1 convolution
//   batchnorm2d       aten::batch_norm with affine parameters and running statistics
//   linear            aten::linear; aten::addmm; aten::matmul / aten::mm, with a following
//                     add of a bias vector folded in
//   relu, relu6, silu, hardswish, hardsigmoid, sigmoid, gelu
//                     aten::relu(_), aten::hardtanh(_) over [0, 6], aten::relu6(_),
//                     aten::silu(_), aten::hardswish(_), aten::hardsigmoid(_), aten::sigmoid,
//                     aten::gelu (exact, not the tanh approximation)
//   maxpool2d         aten::max_pool2d (dilation 1)
//   avgpool2d         aten::avg_pool2d (counting padding, as NetSpec's avgpool2d does)
//   adaptive_avgpool2d aten::adaptive_avg_pool2d; aten::mean over height and width (then a
//                     flatten unless keepdim)
//   add               aten::add(_) of two activations (in place or not: NetSpec's add is out of
//                     place)
//   mul               aten::mul of two activations of one shape, or of a [N, C, 1, 1] one and
//                     a [N, C, H, W] one (squeeze-excitation's scale)
//   scale             aten::mul of an activation and a [C, 1, 1] parameter (ConvNeXt's layer
//                     scale; a [C] one on a channels-last activation)
//   drop_path         aten::mul of an activation and stochastic depth's noise: a [N, 1, ...]
//                     tensor made by bernoulli_(1 - p) (then div_), as torchvision's
//                     stochastic_depth (mode "row") and modelgen's builder make it; p comes
//                     from it. Where p is 0 or the model is traced in eval mode, the graph
//                     holds no such op and no layer is made.
//   layernorm2d       aten::layer_norm over the channels of a channels-last activation, affine
//   channel_shuffle   aten::view / reshape to [N, g, C/g, H, W], aten::transpose(1, 2),
//                     (contiguous,) aten::view / reshape to [N, C, H, W]; aten::channel_shuffle
//   slice             aten::slice, aten::narrow, aten::chunk, aten::split(_with_sizes) along
//                     the channels with step 1 (one layer per piece; a piece that is the whole
//                     input is no layer)
//   concat            aten::cat along channels
//   flatten           aten::flatten from dimension 1; aten::view / aten::reshape to [N, -1]
//   dropout           aten::dropout(_)
//
// Channels-last: aten::permute(0, 2, 3, 1) of an activation makes no layer but lets layer
// norm over the last dimension (layernorm2d), linear (a 1x1 conv2d with the same parameters),
// the activations, dropout and a [C] scale act on it, up to aten::permute(0, 3, 1, 2) back:
// ConvNeXt's block and LayerNorm2d. NetSpec's identity op is never made (nn.Identity leaves
// no op to see).
//
// Ops that only move or inspect activations (size, dim, lists and tuples of tensors,
// contiguous, views that change nothing) and ops that never touch them (parameter
// bookkeeping such as BN's num_batches_tracked, integer arithmetic, stochastic depth's noise)
// make no layers. Any other op on an activation is outside NetSpec: every such op is listed,
// with its source location (or its graph node when the file has none) and module, in one
// InputError.
#pragma once

#include <stdexcept>
#include <string>

#include "common/input_error.hpp"
#include "modelgen/netspec.hpp"

namespace torch::jit {
struct Module;
}
namespace torch::nn {
class AnyModule;
}

namespace p4s::modelgen_torch {

struct ImportOptions {
  // The network's input, per sample (NetSpec's "input"); the model runs on a batch of it.
  modelgen::InputSpec input{3, 224, 224};
  // NetSpec's "name"; empty: the file's name without folders and extension.
  std::string name;
};

// The batch size the model runs at during import (an odd size, so that a view to [3, -1]
// is told apart from one to a batch size written into the model only by chance).
inline constexpr int64_t kImportBatch = 3;

// Loads the TorchScript file at `path` (CPU) and imports it. The module is put in training
// mode first: NetSpec describes the training step. Throws InputError for a file that
// LibTorch cannot load, a forward that does not take one tensor, ops outside NetSpec, a
// model that fails to run on the input size (the message says to give the right one), or an
// output that is not one [N, classes] tensor made by a layer.
modelgen::NetSpec import_torchscript(const std::string& path, const ImportOptions& options = {});

// As import_torchscript, for a module already loaded (a deep copy runs; `module` is left as it
// is); `source` names it in errors and gives the default name.
modelgen::NetSpec import_torchscript_module(torch::jit::Module module, const std::string& source,
                                            const ImportOptions& options = {});

// A LibTorch C++ module (any torch::nn::Module whose forward takes one tensor) imported as
// above: its forward traced on a CPU batch of options.input in training mode, with its
// parameters and buffers as the trace's inputs, then walked as a TorchScript graph. Layers
// are named after the submodules that own their weights (layer1.conv1 -> layer1_conv1), the
// others after their op. The module is moved to the CPU and runs (its batch-norm statistics
// change): pass one built for the purpose. `source` names it in errors and is the default
// name. Throws InputError as import_torchscript does.
modelgen::NetSpec import_traced_module(torch::nn::AnyModule& module, const std::string& source,
                                       const ImportOptions& options = {});

}  // namespace p4s::modelgen_torch
