#include "modelgen/torch/module_training_step.hpp"

#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <torch/nn/modules/batchnorm.h>

#include <set>
#include <utility>

#include "common/input_error.hpp"

namespace p4s::modelgen_torch {
namespace {

bool is_batch_norm(const torch::nn::Module& m) {
  return dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&m) || dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&m) ||
         dynamic_cast<const torch::nn::BatchNorm3dImpl*>(&m);
}

}  // namespace

std::vector<torch::Tensor> freeze_module_before(torch::nn::Module& module, const std::string& path, bool eval_bn,
                                                const std::string& source) {
  std::vector<torch::Tensor> trainable;
  const auto named = module.named_parameters(/*recurse=*/true);
  size_t first = 0;
  if (!path.empty()) {
    const std::string prefix = path + ".";
    while (first < named.size() && named[first].key().rfind(prefix, 0) != 0) ++first;
    if (first == named.size())
      throw InputError(source, "train_from", "\"" + path + "\" names no submodule with parameters");
  }
  std::set<const c10::TensorImpl*> frozen;
  for (size_t i = 0; i < named.size(); ++i) {
    torch::Tensor p = named[i].value();
    if (i < first) {
      p.set_requires_grad(false);
      frozen.insert(p.unsafeGetTensorImpl());
    } else {
      trainable.push_back(p);
    }
  }
  if (eval_bn && !frozen.empty())
    for (const std::shared_ptr<torch::nn::Module>& m : module.modules(/*include_self=*/false)) {
      if (!is_batch_norm(*m)) continue;
      const auto params = m->parameters(/*recurse=*/false);
      bool all_frozen = !params.empty();
      for (const torch::Tensor& p : params) all_frozen = all_frozen && frozen.count(p.unsafeGetTensorImpl()) != 0;
      if (all_frozen) m->eval();
    }
  return trainable;
}

ModuleTrainingStep::ModuleTrainingStep(torch::nn::AnyModule module, const modelgen::InputSpec& input, int64_t classes,
                                       int64_t batch, torch::Device device, const std::string& source,
                                       const results::Recipe& recipe, LossFn loss)
    : module_(std::move(module)), source_(source), classes_(classes), loop_(recipe, device), loss_fn_(std::move(loss)) {
  torch::nn::Module& m = *module_.ptr();
  m.to(device);
  m.train();
  optimizer_ = make_optimizer(recipe, freeze_module_before(m, recipe.train_from, recipe.freeze_bn, source));
  const auto options = torch::TensorOptions().device(device);
  inputs_ = at::randn({batch, input.channels, input.height, input.width}, options.dtype(torch::kFloat32));
  labels_ = at::randint(classes, {batch}, options.dtype(torch::kInt64));
}

void ModuleTrainingStep::run() {
  loss_.reset();  // nothing of the previous step is held through this one, as TrainingStep
  const torch::Tensor loss = loop_.step(*optimizer_, [this] {
    const torch::Tensor logits = module_.forward(inputs_);
    if (logits.dim() != 2 || logits.size(0) != inputs_.size(0) || logits.size(1) != classes_)
      throw InputError(source_, "forward", "returned a tensor of sizes " + std::string(c10::str(logits.sizes())) +
                                               ", not [" + std::to_string(inputs_.size(0)) + ", " +
                                               std::to_string(classes_) + "] logits");
    return loss_fn_ ? loss_fn_(logits, labels_) : at::cross_entropy_loss(logits, labels_);
  });
  loss_ = loss.detach();
}

}  // namespace p4s::modelgen_torch
