// Training recipes as data: names, case-name parts and context keys, both ways.
#include <gtest/gtest.h>

#include <string>

#include "results_format/recipe.hpp"

namespace p4s::results {
namespace {

TEST(Recipe, TheDefaultIsTheStepEveryOlderResultMeans) {
  const Recipe r = default_recipe();
  EXPECT_EQ(r.optimizer, Optimizer::kSgd);
  EXPECT_EQ(r.lr, 0.1);
  EXPECT_EQ(r.momentum, 0.9);
  EXPECT_EQ(r.weight_decay, 5e-4);
  EXPECT_EQ(r.precision, Precision::kFp32);
  EXPECT_TRUE(r.train_from.empty());
  EXPECT_FALSE(r.freeze_bn);
  EXPECT_EQ(r.describe(), "sgd lr 0.1 momentum 0.9 weight decay 0.0005, fp32");
}

TEST(Recipe, NamesOfOptimizersAndPrecisionsReadBack) {
  for (Optimizer o : kOptimizers) EXPECT_EQ(optimizer_from_name(optimizer_name(o)), o);
  for (Precision p : kPrecisions) EXPECT_EQ(precision_from_name(precision_name(p)), p);
  EXPECT_FALSE(optimizer_from_name("lamb"));
  EXPECT_FALSE(precision_from_name("fp8"));
}

TEST(Recipe, CaseNamePartsSayWhatDiffersFromTheFilesRecipe) {
  const Recipe base;
  EXPECT_TRUE(recipe_name_parts(base, base).empty());
  Recipe r;
  r.optimizer = Optimizer::kAdam;
  r.lr = 1e-3;  // hyper-parameters never appear in names
  r.precision = Precision::kBf16;
  r.train_from = "layer4/0:conv%1";
  r.freeze_bn = true;
  r.optimizer_impl = OptimizerImpl::kForeach;
  r.zero_grad_to_none = true;
  const std::vector<std::string> parts = recipe_name_parts(r, base);
  EXPECT_EQ(parts, (std::vector<std::string>{"opt:adam", "prec:bf16", "from:layer4%2F0%3Aconv%251", "freeze_bn:1",
                                             "impl:foreach", "zero_grad:none"}));
  Recipe back = base;
  for (const std::string& p : parts) {
    const RecipePartResult a = apply_recipe_part(p, back);
    EXPECT_TRUE(a.recognised) << p;
    EXPECT_TRUE(a.error.empty()) << a.error;
  }
  EXPECT_EQ(back.optimizer, r.optimizer);
  EXPECT_EQ(back.precision, r.precision);
  EXPECT_EQ(back.train_from, r.train_from);
  EXPECT_EQ(back.freeze_bn, r.freeze_bn);
  EXPECT_EQ(back.optimizer_impl, r.optimizer_impl);
  EXPECT_EQ(back.zero_grad_to_none, r.zero_grad_to_none);
}

TEST(Recipe, OtherPartsAreNotRecipePartsAndBadValuesSaySo) {
  Recipe r;
  EXPECT_FALSE(apply_recipe_part("manual_time", r).recognised);
  EXPECT_FALSE(apply_recipe_part("repeats:3", r).recognised);
  for (const char* bad : {"opt:lamb", "prec:fp8", "freeze_bn:yes", "from:a%2", "impl:jit", "zero_grad:1"}) {
    const RecipePartResult a = apply_recipe_part(bad, r);
    EXPECT_TRUE(a.recognised) << bad;
    EXPECT_NE(a.error.find(bad), std::string::npos) << a.error;
  }
  EXPECT_EQ(r, Recipe{});  // nothing applied from a bad part
}

TEST(Recipe, TheContextCarriesTheWholeRecipe) {
  Recipe r;
  r.optimizer = Optimizer::kAdamW;
  r.lr = 3e-4;
  r.weight_decay = 0.05;
  r.beta1 = 0.8;
  r.beta2 = 0.99;
  r.eps = 1e-6;
  r.train_from = "fc";
  r.optimizer_impl = OptimizerImpl::kFused;
  r.zero_grad_to_none = true;
  Recipe back;
  EXPECT_EQ(recipe_from_context(recipe_context(r), back), "");
  EXPECT_EQ(back, r);
  // Nothing said: the default recipe. An optimizer alone: its own defaults.
  Recipe none;
  EXPECT_EQ(recipe_from_context({}, none), "");
  EXPECT_EQ(none, Recipe{});
  Recipe adam;
  EXPECT_EQ(recipe_from_context({{"p4s_optimizer", "adam"}}, adam), "");
  EXPECT_EQ(adam.lr, 1e-3);
  EXPECT_EQ(adam.weight_decay, 0.0);
}

TEST(Recipe, BadContextValuesNameTheKey) {
  Recipe r;
  EXPECT_NE(recipe_from_context({{"p4s_optimizer", "lamb"}}, r).find("context.p4s_optimizer"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_lr", "-1"}}, r).find("context.p4s_lr"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_betas", "0.9"}}, r).find("context.p4s_betas"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_freeze_bn", "true"}}, r).find("context.p4s_freeze_bn"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_optimizer_impl", "jit"}}, r).find("context.p4s_optimizer_impl"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_zero_grad", "1"}}, r).find("context.p4s_zero_grad"), std::string::npos);
  EXPECT_NE(recipe_from_context({{"p4s_optimizer", "sgd-nesterov"}, {"p4s_momentum", "0"}}, r).find("nesterov"),
            std::string::npos);
}


// Switching between SGD and the Adam kind takes that kind's usual settings; within a kind the
// settings stay.
TEST(Recipe, UsingAnotherOptimizerTakesItsUsualSettings) {
  Recipe r;
  r.lr = 0.05;
  use_optimizer(r, Optimizer::kSgdNesterov);
  EXPECT_DOUBLE_EQ(r.lr, 0.05);
  use_optimizer(r, Optimizer::kAdamW);
  EXPECT_DOUBLE_EQ(r.lr, 1e-3);
  EXPECT_DOUBLE_EQ(r.weight_decay, 1e-2);
  use_optimizer(r, Optimizer::kAdam);
  EXPECT_DOUBLE_EQ(r.weight_decay, 0);
  use_optimizer(r, Optimizer::kSgd);
  EXPECT_EQ(r, default_recipe());
  // A name part does the same.
  EXPECT_TRUE(apply_recipe_part("opt:adamw", r).recognised);
  EXPECT_DOUBLE_EQ(r.weight_decay, 1e-2);
}

}  // namespace
}  // namespace p4s::results
