// Whether a model's data covered the recipe of a step it is asked to predict: what a
// prediction then extrapolates (warnings), or why the model cannot predict it at all.
#pragma once

#include <string>
#include <vector>

#include "predictors/model_file.hpp"
#include "results_format/recipe.hpp"

namespace p4s::predictors {

struct RecipeCoverage {
  // Non-empty: the model cannot predict this recipe's steps (a method that follows no recipe,
  // asked for one its data did not have), and why.
  std::string refusal;
  // What the prediction extrapolates, one sentence each: an optimizer, a precision, a frozen
  // prefix or frozen batch norms no step of the data had; and for autocast steps, that their
  // latency follows the float32 terms.
  std::vector<std::string> warnings;
};

RecipeCoverage recipe_coverage(const ModelFile& model, const results::Recipe& recipe);

}  // namespace p4s::predictors
