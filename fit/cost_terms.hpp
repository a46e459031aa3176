// The cost terms of a training step that the latency model weighs: what the host does per
// op and per parameter (dispatch, kernel launches, the optimizer's loop) and what the device
// does (arithmetic of convolutions and linear layers, bytes moved by memory-bound work,
// kernels). Each term is a + b * batch; the model's coefficients are fitted (latency_model.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <armadillo>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::fit {

struct CostTerms {
  arma::vec fixed;       // per step, independent of the batch
  arma::vec per_sample;  // added per sample of the batch
  arma::vec at(int64_t batch) const { return fixed + per_sample * static_cast<double>(batch); }
};

// Host terms: [1, autograd ops (forward and backward), parameter tensors].
const std::vector<std::string>& host_term_names();
// Device terms: [1, kernels, FLOPs of convolutions and linear layers with channels padded to
// the GEMM tile, depthwise conv bytes, conv activation bytes, memory-bound bytes
// (normalisation, activations, pooling, additions, concatenations, dropout, optimizer)].
const std::vector<std::string>& device_term_names();

CostTerms host_terms(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net);
CostTerms device_terms(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net);

}  // namespace p4s::fit
