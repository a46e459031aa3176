#include "predictors/recipe_coverage.hpp"

#include <algorithm>

namespace p4s::predictors {
namespace {

std::string listed(const std::vector<results::Recipe>& recipes) {
  std::string s;
  for (size_t i = 0; i < recipes.size(); ++i) s += (i ? "; " : "") + recipes[i].describe();
  return s;
}

}  // namespace

RecipeCoverage recipe_coverage(const ModelFile& model, const results::Recipe& recipe) {
  RecipeCoverage c;
  const std::vector<results::Recipe>& data = model.recipes;
  const bool fitted_on_it = std::find(data.begin(), data.end(), recipe) != data.end();
  if (!model.predictor->follows_recipes()) {
    if (!fitted_on_it)
      c.refusal = std::string("a ") + method_name(model.method()) +
                  " model predicts the steps of its data's recipe (" + listed(data) +
                  ") whatever the recipe asked: its features know none";
    else if (data.size() > 1)
      c.warnings.push_back(std::string("a ") + method_name(model.method()) +
                           " model predicts the same for each recipe of its data: its features know none");
    return c;
  }
  if (recipe.precision != results::Precision::kFp32)
    c.warnings.push_back(std::string("the latency of a ") + results::precision_name(recipe.precision) +
                         " autocast step follows the float32 kernels' fitted rates: half-precision kernels' own "
                         "are not modelled yet");
  if (fitted_on_it) return c;
  auto any = [&](auto&& has) { return std::any_of(data.begin(), data.end(), has); };
  if (!any([&](const results::Recipe& r) { return r.optimizer == recipe.optimizer; }))
    c.warnings.push_back(std::string("no step of the model's data used the optimizer ") +
                         results::optimizer_name(recipe.optimizer) +
                         ": its memory follows the simulated step, its latency the other optimizers' fitted terms");
  if (!recipe.train_from.empty() && !any([](const results::Recipe& r) { return !r.train_from.empty(); }))
    c.warnings.push_back("no step of the model's data had a frozen prefix: its memory follows the simulated "
                         "step, its latency terms are those fitted on whole-network training");
  if (recipe.precision != results::Precision::kFp32 &&
      !any([&](const results::Recipe& r) { return r.precision == recipe.precision; }))
    c.warnings.push_back(std::string("no step of the model's data ran under ") + results::precision_name(recipe.precision) +
                         " autocast: its memory follows the simulated step");
  if (recipe.freeze_bn && !any([](const results::Recipe& r) { return r.freeze_bn; }))
    c.warnings.push_back("no step of the model's data had batch norms in eval mode: they are simulated, not measured");
  return c;
}

}  // namespace p4s::predictors
