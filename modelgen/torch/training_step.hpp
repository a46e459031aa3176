// The training step that every measurement means: forward on a random float32 batch,
// cross-entropy against random labels over `classes`, zero_grad, backward, and an optimizer
// step, following a recipe (results_format/recipe.hpp; by default SGD(lr=0.1, momentum=0.9,
// weight_decay=5e-4) over every parameter). With a bf16 or fp16 recipe the forward pass and
// the loss run under autocast, and fp16 scales the loss (mixed_precision.hpp); parameters,
// gradients and the optimizer stay float32. The classes own everything the step touches, made
// once at construction, so that run() is exactly one step and nothing else.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"
#include "modelgen/torch/builder.hpp"
#include "modelgen/torch/mixed_precision.hpp"
#include "results_format/recipe.hpp"

namespace p4s::modelgen_torch {

// The loss of a network's step from its [N, classes] logits and int64 labels [N] in
// [0, classes); cross-entropy (at::cross_entropy_loss) where none is given.
using LossFn = std::function<torch::Tensor(const torch::Tensor& logits, const torch::Tensor& labels)>;

// The optimiser of the training step.
inline constexpr double kSgdLr = 0.1;
inline constexpr double kSgdMomentum = 0.9;
inline constexpr double kSgdWeightDecay = 5e-4;
torch::optim::SGDOptions training_sgd_options();

// The recipe's optimizer over `params`, as LibTorch's C++ optimizers implement it.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const results::Recipe& recipe,
                                                        std::vector<torch::Tensor> params);

// Zeroes every gradient of the optimiser's parameters in place, keeping it allocated, as
// PyTorch 1.x's zero_grad does (2.x's default frees them instead); the same on every version.
void zero_grad_in_place(torch::optim::Optimizer& optimizer);
// zero_grad(set_to_none=True): every gradient freed (PyTorch 2.x's default).
void set_grads_to_none(torch::optim::Optimizer& optimizer);
// Throws InputError unless the recipe's optimizer implementation is LibTorch's C++ one, the
// only one these steps run (Python's for-loop, foreach and fused are simulated, not run).
void check_optimizer_impl(const results::Recipe& recipe);

// What both steps below share around their forward pass, as the recipe says: zero_grad where
// the loop puts it (in place after the forward pass, or set to none before it), autocast over
// the forward pass and the loss, backward and the optimizer's step through the gradient
// scaler under fp16, and the phase marks (step_phases.hpp).
class RecipeLoop {
 public:
  // Throws InputError for a precision `device` does not run (check_precision) or an optimizer
  // implementation other than LibTorch's (check_optimizer_impl).
  RecipeLoop(const results::Recipe& recipe, const torch::Device& device);
  // One step: `forward` computes the loss from the model's output. Returns the loss.
  torch::Tensor step(torch::optim::Optimizer& optimizer, const std::function<torch::Tensor()>& forward);

 private:
  results::Precision precision_;
  bool grads_to_none_;  // zero_grad(set_to_none=True) before the forward pass
  torch::Device device_;
  std::optional<GradScaler> scaler_;  // fp16
};

// One network's training step at one batch size.
class TrainingStep {
 public:
  // Builds the network (weights, PyTorch's initialisation), its optimiser, and a random
  // batch: inputs float32 [batch, C, H, W] from N(0, 1), labels int64 [batch] in
  // [0, classes). Throws InputError for a bad spec, c10::Error when LibTorch
  // cannot allocate. Precondition: batch >= 1.
  // With `recipe.train_from`, the parameters of the layers before it are frozen (and with
  // freeze_bn their batch norms in eval mode), and the optimizer holds only the trainable
  // ones, as a fine-tuning loop does; an unknown layer is an InputError naming `source`, and
  // so is a precision the device does not run (check_precision). `loss` replaces
  // cross-entropy where given.
  TrainingStep(const modelgen::NetSpec& spec, int64_t batch, torch::Device device,
               const std::string& source = "<netspec>", const results::Recipe& recipe = results::default_recipe(),
               LossFn loss = nullptr);

  // One step: forward, loss, zero_grad, backward, optimizer step (with recipe.zero_grad_to_none:
  // zero_grad setting the gradients to none first, then forward, loss, backward, step). Leaves
  // the gradients and the optimizer's state allocated, as they are between steps of a
  // training loop. Announces its phases to this thread's PhaseObserver (step_phases.hpp).
  void run();

  NetImpl& net() { return *net_; }
  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  const torch::Tensor& inputs() const { return inputs_; }
  const torch::Tensor& labels() const { return labels_; }
  int64_t batch() const { return batch_; }
  // The loss of the last run() (undefined before the first and during a run); reading its
  // value synchronises.
  const torch::Tensor& last_loss() const { return loss_; }

 private:
  int64_t batch_;
  RecipeLoop loop_;
  LossFn loss_fn_;
  Net net_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor inputs_;
  torch::Tensor labels_;
  torch::Tensor loss_;
};

// One layer's training step alone: forward on a random float32 input that requires a
// gradient (the layer sits inside a network, so backward also computes the input's gradient),
// the scalar loss out.mean(), zero_grad, backward, and the same SGD step. Also a small block
// of layers (a squeeze-excitation block) run the same way, as one case.
class LayerTrainingStep {
 public:
  // input: one sample's shape (flat for linear). Throws c10::Error when the input does not
  // fit the layer or LibTorch cannot allocate. Preconditions: the layer's op takes one input
  // (not add or concat); batch >= 1.
  LayerTrainingStep(const modelgen::Layer& layer, const modelgen::TensorShape& input,
                    int64_t batch, torch::Device device, const results::Recipe& recipe = results::default_recipe());
  // A block: `layers` run in order, each on its `inputs` (modelgen::kInputName or earlier
  // layers of the block, by name), the last one's output the block's; each intermediate
  // tensor is dropped after its last consumer, as in a network's forward pass. Throws
  // std::invalid_argument for an input that names neither, or an empty block.
  LayerTrainingStep(const std::vector<modelgen::Layer>& layers, const modelgen::TensorShape& input,
                    int64_t batch, torch::Device device, const results::Recipe& recipe = results::default_recipe());

  // One step; the input's gradient is dropped first so that each step allocates its own.
  // Announces its phases as TrainingStep::run does.
  void run();

  torch::nn::Module& module() { return *root_; }
  const torch::Tensor& input() const { return input_; }
  const torch::Tensor& last_loss() const { return loss_; }

 private:
  torch::Tensor forward();

  std::shared_ptr<torch::nn::Module> root_;  // holds the layers' modules, where they have one
  std::vector<LayerRunner> layers_;
  std::vector<std::vector<int>> producers_;  // per layer: its inputs' layers, -1 the input
  std::vector<size_t> last_use_;             // per layer: its last consumer (itself if none)
  RecipeLoop loop_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor input_;
  torch::Tensor loss_;
};

}  // namespace p4s::modelgen_torch
