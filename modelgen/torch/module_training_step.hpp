// The training step of a user's own LibTorch module (any torch::nn::Module whose forward takes
// one float [N, C, H, W] batch and returns [N, classes] logits), the same step as TrainingStep
// runs for a NetSpec network: a random float32 batch from N(0, 1), cross-entropy (or the
// given loss) against random labels, and the recipe's zero_grad, backward and optimizer step
// (RecipeLoop).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/torch/training_step.hpp"
#include "results_format/recipe.hpp"

namespace p4s::modelgen_torch {

// Freezes the parameters of `module` registered before the first parameter of the submodule
// at `path` ("layer3", "features.4"; empty: none), and with `eval_bn` puts the batch norms
// whose parameters are all frozen in eval mode. Returns the parameters that still train, in
// registration order. Throws InputError naming `source` where no parameter is under `path`.
std::vector<torch::Tensor> freeze_module_before(torch::nn::Module& module, const std::string& path, bool eval_bn,
                                                const std::string& source);

class ModuleTrainingStep {
 public:
  // Moves `module` to `device`, puts it in training mode, freezes what the recipe's
  // train_from says, and makes the optimizer and the batch. Throws InputError for a recipe the
  // device cannot run or a train_from no submodule has (naming `source`), c10::Error when
  // LibTorch cannot allocate. Preconditions: batch >= 1, classes >= 1.
  ModuleTrainingStep(torch::nn::AnyModule module, const modelgen::InputSpec& input, int64_t classes, int64_t batch,
                     torch::Device device, const std::string& source,
                     const results::Recipe& recipe = results::default_recipe(), LossFn loss = nullptr);

  // One step, as TrainingStep::run. Throws InputError (naming the source) where the forward
  // does not return [batch, classes] logits.
  void run();

  torch::nn::Module& module() { return *module_.ptr(); }
  const torch::Tensor& last_loss() const { return loss_; }

 private:
  torch::nn::AnyModule module_;
  std::string source_;
  int64_t classes_;
  RecipeLoop loop_;
  LossFn loss_fn_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor inputs_;
  torch::Tensor labels_;
  torch::Tensor loss_;
};

}  // namespace p4s::modelgen_torch
