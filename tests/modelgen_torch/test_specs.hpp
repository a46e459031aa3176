// Small NetSpecs written for the tests: every op of NetSpec v1 appears in one of them.
#pragma once

#include <cstdint>
#include <string>

#include "modelgen/netspec_io.hpp"

namespace p4s::modelgen_torch::testing_specs {

// conv (bias) -> bn -> relu (in place) -> two branches (1x1 conv, 3x3 conv) -> concat ->
// maxpool (ceil) -> avgpool (padded) -> 1x1 conv -> add with a residual -> relu6 ->
// adaptive avgpool -> flatten -> dropout -> linear.
inline modelgen::NetSpec every_op() {
  return modelgen::parse_netspec(R"({
    "netspec": 1, "name": "every_op", "classes": 10,
    "input": {"channels": 3, "height": 19, "width": 19},
    "layers": [
      {"name": "stem.conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 8,
       "kernel": 3, "stride": 2, "padding": 1, "bias": true},
      {"name": "stem.bn", "op": "batchnorm2d", "inputs": ["stem.conv"], "features": 8},
      {"name": "stem_relu", "op": "relu", "inputs": ["stem.bn"], "inplace": true},
      {"name": "b1", "op": "conv2d", "inputs": ["stem_relu"], "in_channels": 8, "out_channels": 4,
       "kernel": 1, "bias": false},
      {"name": "b2", "op": "conv2d", "inputs": ["stem_relu"], "in_channels": 8, "out_channels": 6,
       "kernel": 3, "padding": 1, "groups": 2, "bias": false},
      {"name": "cat", "op": "concat", "inputs": ["b1", "b2"]},
      {"name": "mp", "op": "maxpool2d", "inputs": ["cat"], "kernel": 3, "stride": 2, "ceil_mode": true},
      {"name": "ap", "op": "avgpool2d", "inputs": ["mp"], "kernel": 3, "stride": 1, "padding": 1},
      {"name": "dw", "op": "conv2d", "inputs": ["ap"], "in_channels": 10, "out_channels": 10,
       "kernel": 3, "padding": 1, "groups": 10, "bias": false},
      {"name": "add", "op": "add", "inputs": ["dw", "ap"]},
      {"name": "r6", "op": "relu6", "inputs": ["add"], "inplace": false},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["r6"], "output_size": [2, 2]},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "drop", "op": "dropout", "inputs": ["flat"], "p": 0.2},
      {"name": "fc", "op": "linear", "inputs": ["drop"], "in_features": 40, "out_features": 10}
    ],
    "output": "fc"})", "every_op");
}

// The smallest trainable network: conv -> relu -> global pool -> flatten -> linear.
inline modelgen::NetSpec tiny(int64_t classes = 5) {
  return modelgen::parse_netspec(R"({
    "netspec": 1, "name": "tiny", "classes": )" + std::to_string(classes) + R"(,
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
      {"name": "conv", "op": "conv2d", "inputs": ["input"], "in_channels": 3, "out_channels": 4,
       "kernel": 3, "padding": 1},
      {"name": "relu", "op": "relu", "inputs": ["conv"], "inplace": true},
      {"name": "gap", "op": "adaptive_avgpool2d", "inputs": ["relu"], "output_size": 1},
      {"name": "flat", "op": "flatten", "inputs": ["gap"]},
      {"name": "fc", "op": "linear", "inputs": ["flat"], "in_features": 4, "out_features": )" +
                                 std::to_string(classes) + R"(}
    ],
    "output": "fc"})", "tiny");
}

}  // namespace p4s::modelgen_torch::testing_specs
