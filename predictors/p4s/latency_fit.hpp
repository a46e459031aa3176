// Fitting the p4s latency model: the coefficients on layer cases where the results have
// enough of them (a network then costs the sum of its layers, with a fitted step constant and
// scale), else on the network cases; on a CUDA device as a pipeline of dispatch and work, with
// a small-batch FLOP rate where the data calls for one.
#pragma once

#include <vector>

#include "predictors/observations.hpp"
#include "predictors/p4s/latency_model.hpp"
#include "results_format/measurements.hpp"
#include "sim/device_runtime.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::predictors {

// Fits on `obs` (steps that ran, each with a latency) and `layer_cases` (may be empty) for a
// device running as `runtime`.
LatencyModel fit_latency(const std::vector<const Observation*>& obs,
                         const std::vector<results::LayerResult>& layer_cases, const sim::DeviceRuntime& runtime,
                         sim::AnalysisCache& cache);

}  // namespace p4s::predictors
