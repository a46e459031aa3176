// The perf4sight baseline's features (Rajagopal & Bouganis, ICCV-W 2021), reproduced from the
// public ICIdsl/perf4sight code: fingerprinting/decision_tree_fitter.py, function `training`
// (56 features per convolution, training mode), summed over a network's convolutions by
// `Fitter.get_fit_variables`, whose per-layer descriptions come from utils.py,
// `TestGenerator.from_model`.
//
// What the original uses, and so what this uses:
//   - every conv2d layer, and nothing else: no linear, pooling or normalisation layers, and
//     the batch size only through the formulas (it is not a feature of its own);
//   - per conv: batch size, in/out channels, groups, and the first (height) element of the
//     input size, kernel, padding and stride. The original reads those from PyTorch modules
//     and keeps only element [0] of each pair, so non-square convs are described by their
//     height; dilation and bias are not used. The output size is recomputed by perf4sight's
//     own formula (without dilation), not taken from shape inference.
// Feature values are counts of tensor elements or of operations (not bytes, not seconds).
// They equal the original's bit for bit (tests/predictors/perf4sight_reference.json holds values
// computed by the original Python for three TX2 networks); the FFT operation counts use the C
// library's log(), as CPython does, so they may differ in the last bit between C libraries.
//
// Deviations, all documented at their place in perf4sight_features.cpp:
//   - names: the original's Winograd memory features "sum-2", "sum-3" and "sum-all" are named
//     with the literal text "{m}-{r}" (a missing f-string prefix), so the (4,3) and (3,2)
//     variants share a name; here they are formatted like their neighbours
//     ("wino-sum-2-4-3"), giving 56 distinct names. Values are unaffected.
//   - the per-conv input sizes come from NetSpec shape inference at the NetSpec's input size,
//     where the original records them with forward hooks on a batch-8 dummy pass (224x224, or
//     32x32 for CIFAR) and matches them to modules by registration order. The two agree for
//     every network whose convs are registered in execution order, as torchvision's are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <armadillo>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::predictors {

inline constexpr std::size_t kPerf4sightFeatureCount = 56;

// The features' names, in the original's order; stable strings for model files and reports.
const std::array<std::string_view, kPerf4sightFeatureCount>& perf4sight_feature_names();

// One convolution as the original describes it (one section of its layer-description file),
// with the batch size that Fitter.get_fit_variables sets.
struct Perf4sightConv {
  int64_t batch = 0;         // "bs"
  int64_t in_channels = 0;   // "ic"
  int64_t out_channels = 0;  // "oc"
  int64_t input_size = 0;    // "ip": input height in pixels (element [0] of [H, W])
  int64_t kernel = 0;        // "k": kernel height
  int64_t padding = 0;       // "pad": padding height
  int64_t stride = 0;        // "stride": stride height
  int64_t groups = 1;        // "groups"
};

// The convolution's output size by the original's formula: 1 + floor((ip + 2 pad - k) / stride).
int64_t perf4sight_output_size(const Perf4sightConv& conv);

// The 56 training-mode features of one convolution (decision_tree_fitter.py, `training`).
// Throws std::invalid_argument if a size is not positive, groups does not divide in_channels,
// or the output size is not positive; std::overflow_error if an integer count leaves int64.
arma::vec perf4sight_conv_features(const Perf4sightConv& conv);

// The network's convolutions described as the original describes them, in layer order.
// Preconditions: `shaped` is infer_shapes(spec); batch > 0 (std::invalid_argument otherwise).
std::vector<Perf4sightConv> perf4sight_convs(const modelgen::NetSpec& spec,
                                             const modelgen::ShapedNet& shaped, int64_t batch);

// The network-level feature vector: the per-conv features summed over the network's convs in
// layer order, in double precision (as the original's numpy float64 accumulation). Throws
// InputError if the network has no conv2d layer, or a convolution that the original's formula
// cannot describe (the original has no features for such a network); std::invalid_argument if
// a precondition of perf4sight_convs fails.
arma::vec perf4sight_features(const modelgen::NetSpec& spec, const modelgen::ShapedNet& shaped,
                              int64_t batch);

}  // namespace p4s::predictors
