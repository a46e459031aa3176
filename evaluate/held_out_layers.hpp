// A held-out fold holds out what it would learn about the held-out networks: a layer case
// whose layer (its kind and shape: channels, kernel, stride, groups, input size; the batch
// aside) occurs in a held-out network is left out of that fold's fit, as the network is.
#pragma once

#include <vector>

#include "modelgen/network_library.hpp"
#include "results_format/format.hpp"
#include "results_format/measurements.hpp"

namespace p4s::evaluate {

// The layers of `net` as layer-case shapes (square convolutions, pooling aside; linear
// layers; batch norms on square inputs): what a layer case of the same shape measures.
std::vector<results::CaseShape> layer_case_shapes(const modelgen::ResolvedNet& net);

// The layer cases whose shape occurs in none of `held_out`, in their order. Cases whose kind
// or arguments are none of the format's are kept (they describe no network's layer).
std::vector<results::LayerResult> layer_cases_outside(const std::vector<results::LayerResult>& cases,
                                                      const std::vector<const modelgen::ResolvedNet*>& held_out);

}  // namespace p4s::evaluate
