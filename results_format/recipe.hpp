// The training recipe a step follows: its optimizer, its precision, and which part of the
// network trains. Every result and model file written before recipes existed means the
// default recipe (default_recipe()): fp32, SGD with momentum 0.9 and weight decay 5e-4, every
// parameter trained. A results file's context carries its sweep's recipe (p4s_optimizer, ...);
// a case that differs from its file's says so in its name, after the batch:
// `Net/<net>/bs:<N>/opt:adam/prec:bf16/from:<layer>/freeze_bn:1`, parts at their defaults left
// out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace p4s::results {

enum class Optimizer {
  kSgd,          // torch.optim.SGD: a momentum buffer per parameter where momentum > 0
  kSgdNesterov,  // SGD(nesterov=True)
  kAdam,         // torch.optim.Adam: exp_avg and exp_avg_sq per parameter
  kAdamW,        // torch.optim.AdamW: Adam with decoupled weight decay
};
inline constexpr Optimizer kOptimizers[] = {Optimizer::kSgd, Optimizer::kSgdNesterov, Optimizer::kAdam,
                                            Optimizer::kAdamW};
const char* optimizer_name(Optimizer o);  // "sgd", "sgd-nesterov", "adam", "adamw"
std::optional<Optimizer> optimizer_from_name(std::string_view name);

enum class Precision {
  kFp32,  // float32 throughout
  kBf16,  // bfloat16 autocast (CPU or CUDA)
  kFp16,  // float16 autocast with a gradient scaler (CUDA)
};
inline constexpr Precision kPrecisions[] = {Precision::kFp32, Precision::kBf16, Precision::kFp16};
const char* precision_name(Precision p);  // "fp32", "bf16", "fp16"
std::optional<Precision> precision_from_name(std::string_view name);

// How the optimizer's update is implemented, which decides its temporaries (sim/optimizer_step.hpp):
enum class OptimizerImpl {
  kLibTorch,  // LibTorch's C++ optimizers, one parameter after another (what the bench runs)
  kForLoop,   // PyTorch's Python optimizers with foreach=False (their default on the CPU)
  kForeach,   // foreach=True: each operation over every parameter at once (default on CUDA)
  kFused,     // fused=True: one kernel a parameter group, no temporaries
};
inline constexpr OptimizerImpl kOptimizerImpls[] = {OptimizerImpl::kLibTorch, OptimizerImpl::kForLoop,
                                                    OptimizerImpl::kForeach, OptimizerImpl::kFused};
const char* optimizer_impl_name(OptimizerImpl i);  // "libtorch", "for-loop", "foreach", "fused"
std::optional<OptimizerImpl> optimizer_impl_from_name(std::string_view name);

struct Recipe {
  Optimizer optimizer = Optimizer::kSgd;
  double lr = 0.1;
  double momentum = 0.9;       // SGD; nesterov needs it > 0
  double weight_decay = 5e-4;  // SGD and Adam: added to the gradient; AdamW: decoupled
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
  Precision precision = Precision::kFp32;
  // The first layer (by NetSpec name) that trains: it and every later layer in the NetSpec's
  // order train, the parameters of the earlier ones are frozen. Empty: every layer trains.
  std::string train_from;
  // Batch norms of the frozen part in eval mode (running statistics, none updated); without
  // it they stay in train mode, as a model does after .train().
  bool freeze_bn = false;
  OptimizerImpl optimizer_impl = OptimizerImpl::kLibTorch;
  // zero_grad(set_to_none=True) before the forward pass (PyTorch 2.x's default, in a loop that
  // calls it first): the gradients are freed and born again in backward. false: zeroed in
  // place after the forward pass (the bench's step), kept allocated.
  bool zero_grad_to_none = false;

  bool operator==(const Recipe& o) const;
  bool operator!=(const Recipe& o) const { return !(*this == o); }
  bool operator<(const Recipe& o) const;  // an order for maps; no meaning
  // One line for people: "adam lr 0.001, fp32, from layer4_0_conv1".
  std::string describe() const;
};

// The recipe every result without one means.
Recipe default_recipe();

// Switches `r` to optimizer `o`; where that changes between the SGD and the Adam kind, also to
// that kind's usual settings (SGD: lr 0.1, momentum 0.9, weight decay 5e-4; Adam: lr 1e-3,
// no weight decay; AdamW: lr 1e-3, weight decay 1e-2), as a sweep runs each optimizer.
void use_optimizer(Recipe& r, Optimizer o);

// What a recipe's name parts say, relative to `base` (its file's recipe): the parts that
// differ from it, "opt:adam", "prec:bf16", "from:<layer>", "freeze_bn:1", "impl:foreach",
// "zero_grad:none", in this order;
// hyper-parameters never appear in names (a sweep keeps one set per optimizer: use_optimizer's). A layer name's
// '/', ':' and '%' are written %2F, %3A, %25.
std::vector<std::string> recipe_name_parts(const Recipe& r, const Recipe& base);
// Applies a name part "<key>:<value>" (keys opt, prec, from, freeze_bn, impl, zero_grad) to `r`: recognised
// false for a part that is none of these (the caller decides what it is), an error message for
// a recipe part with a bad value.
struct RecipePartResult {
  bool recognised = false;
  std::string error;  // non-empty: the part is a recipe part with a bad value
};
RecipePartResult apply_recipe_part(std::string_view part, Recipe& r);

// The context keys that carry a recipe (p4s_optimizer, p4s_lr, p4s_momentum,
// p4s_weight_decay, p4s_betas, p4s_eps, p4s_precision, p4s_train_from, p4s_freeze_bn,
// p4s_optimizer_impl, p4s_zero_grad: "zero" or "none"), and
// back. Reading: keys absent mean the default recipe's values; a bad value is an error naming
// the key (the string returned; empty when fine).
std::map<std::string, std::string> recipe_context(const Recipe& r);
std::string recipe_from_context(const std::map<std::string, std::string>& context, Recipe& r);

}  // namespace p4s::results
