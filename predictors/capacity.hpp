// Fits / does not fit: the memory a device offers a training step, learned from steps that
// ran and steps that ran out of memory as the threshold on a predicted memory figure that
// separates them best.
#pragma once

#include <optional>
#include <utility>
#include <vector>

namespace p4s::predictors {

// (predicted bytes, whether the step ran). The threshold with the fewest misclassified steps
// (a step fits when its prediction is at most the threshold), in the middle of the widest
// such gap; nullopt when no step ran out of memory. Predictions that are not finite and
// positive are left out; the threshold is always finite and positive.
std::optional<double> fit_capacity(const std::vector<std::pair<double, bool>>& predicted_and_fits);

}  // namespace p4s::predictors
