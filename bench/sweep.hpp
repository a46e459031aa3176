// Sweep presets: which layer shapes, built-in networks and batch sizes run, and how each case
// is measured. quick covers every case kind in minutes; standard and full profile a device;
// none has no cases of its own (the networks a run names or a plugin registers, measured as
// quick measures them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/layer_cases.hpp"
#include "modelgen/netspec.hpp"
#include "results_format/recipe.hpp"

namespace p4s::bench {

// A built-in network (modelgen's name grammar: resnet18_cifar10_p50_s1) and the batch sizes
// it runs at.
struct SweepNetwork {
  std::string name;
  std::vector<int64_t> batches;
};

// A training recipe the sweep measures besides the run's own, on some of its networks at some
// batch sizes, so that a fit learns each recipe's step from data. Its cases are named with the
// recipe's parts after the batch (Net/<net>/bs:<N>/opt:adam/from:<layer>).
struct SweepRecipe {
  results::Recipe recipe;
  // > 0: each network trains from its first convolution or linear layer at or past this share
  // of its layers (train_from_at_share), the layers before it frozen.
  double train_from_share = 0;
  std::vector<std::string> networks;  // built-in names among the sweep's networks
  std::vector<int64_t> batches;
};

// The first conv2d or linear layer of `spec` at or past index ceil(share * layers), by name.
// Throws std::invalid_argument when there is none (share > 0 and < 1).
std::string train_from_at_share(const modelgen::NetSpec& spec, double share);

struct Sweep {
  std::string name;
  std::vector<Conv2dShape> conv2d;
  std::vector<LinearShape> linear;
  std::vector<BatchNorm2dShape> batchnorm2d;
  std::vector<ActivationShape> activation;  // SiLU, Hardswish, Hardsigmoid, Sigmoid, GELU
  std::vector<LayerNorm2dShape> layernorm2d;
  std::vector<ChannelShuffleShape> channel_shuffle;
  std::vector<SqueezeExcitationShape> squeeze_excitation;
  std::vector<int64_t> layer_batches;  // every layer shape runs at each
  std::vector<SweepNetwork> networks;  // built-in networks, each at its own batch sizes
  std::vector<int64_t> net_batches;    // NetSpec files and --p4s_net networks run at each
                                       // (--p4s_batch overrides these and the networks' own)
  std::vector<SweepRecipe> recipes;    // run where the run's own recipe is the default one
  int warmup_steps = 1;                // unmeasured steps before the measured ones
  int repetitions = 1;                 // > 1: Google Benchmark reports mean, median, stddev
  double min_time_s = 0.1;             // measured steps run until they take this long (>= 1 step)
};

// The sweep's repetitions and minimum time as Google Benchmark flags, to go before the
// user's own (which then override them). Flags rather than per-case settings keep Google
// Benchmark from adding /min_time:.../repeats:... to every name. Repeated sweeps report
// only the aggregates (mean, median, stddev, cv).
std::vector<std::string> benchmark_flags(const Sweep& sweep);

// The preset of that name. Throws std::invalid_argument for another name.
Sweep sweep_preset(std::string_view name);
bool is_sweep_name(std::string_view name);
// "quick, standard, full or none".
std::string sweep_names_text();

}  // namespace p4s::bench
