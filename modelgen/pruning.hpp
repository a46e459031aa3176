// Random channel pruning, as perf4sight's dataset of pruned networks was made: every prunable
// filter (an output channel of a conv2d or of a linear layer other than the classifier) gets a
// random score; filters are ranked globally and removed in score order until the parameter
// count has fallen by the requested percentage. A filter's channel leaves every layer of its
// channel group (channel_groups.hpp) at once; a channel already removed through another member
// of its group is passed over, as is a group down to kMinChannels channels. Where the filter
// that reaches the level passes it by more than one point (a channel worth that much is found
// only in very narrow networks), it is put back and the filters after it in score order finish
// the job, each passed over if it would overshoot by more than one point; if they cannot reach
// the level, the first result stands.
//
// Deterministic and identical on every platform: scores are raw std::mt19937_64 outputs
// (whose sequence the C++ standard fixes), ranked as unsigned integers with ties broken by
// position; no standard distribution or shuffle is used.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/input_error.hpp"
#include "modelgen/channel_groups.hpp"
#include "modelgen/netspec.hpp"

namespace p4s::modelgen {

// The fewest channels (filters) pruning leaves in a layer.
inline constexpr int64_t kMinChannels = 2;

struct PruneResult {
  NetSpec spec;
  int64_t params_before = 0;  // trainable parameters of the unpruned network
  int64_t params_after = 0;
  // 100 * (before - after) / before: at least the level asked for; above it by at most one
  // point unless a single channel is worth more (never in the built-in networks at widths of
  // 0.1 and up, levels up to 90).
  double reduction_percent() const {
    return 100.0 * static_cast<double>(params_before - params_after) / static_cast<double>(params_before);
  }
};

// A level that cannot be reached: even with every group down to kMinChannels the parameters
// have not fallen enough. what() is one line.
class PruneError : public InputError {
 public:
  using InputError::InputError;
};

// Prepared once per network (channel groups and a parameter model that updates in O(layers
// touching a group) per channel removed), then run for any level and seed.
class RandomChannelPruner {
 public:
  // Precondition: `base` is valid (InputError otherwise).
  explicit RandomChannelPruner(NetSpec base);

  const NetSpec& base() const { return base_; }
  const ChannelGroups& groups() const { return groups_; }
  int64_t params() const { return params_; }
  // Parameters left when every prunable group is down to kMinChannels.
  int64_t min_params() const;
  // The highest level (at most kMaxPrunePercent) prune() reaches: frozen channel groups
  // (grouped convolutions, channel shuffles and slices) keep their parameters.
  int highest_level() const;

  // The network with at least `level_percent` (0..95) of its parameters removed, named `name`.
  // Level 0 gives the unpruned network. Throws PruneError when the level cannot be reached (a
  // network without parameters reaches none above 0) and std::invalid_argument when it is
  // outside 0..95.
  PruneResult prune(int level_percent, uint64_t seed, std::string name) const;

  // The network with each group at `channels[g]` (one entry per group of groups()), named
  // `name`. Precondition: unprunable groups keep their channels (std::invalid_argument).
  NetSpec with_channels(const std::vector<int64_t>& channels, std::string name) const;

 private:
  struct Term {  // one layer with parameters, as a function of its groups' channel counts
    Op op = Op::kConv2d;
    std::vector<ChannelSegment> in;
    int out_group = -1;  // -1: depthwise, its output follows its input
    int64_t kernel_area = 1;
    int64_t groups = 1;
    bool bias = false;
  };
  int64_t term_params(const Term& t, const std::vector<int64_t>& channels) const;
  int64_t in_size(const std::vector<ChannelSegment>& in, const std::vector<int64_t>& channels) const;

  NetSpec base_;
  ChannelGroups groups_;
  std::vector<int> first_input_;            // per layer: its first producer (-1: the input)
  std::vector<Term> terms_;
  std::vector<std::vector<int>> group_terms_;  // per group: the terms that read or make it
  std::vector<int64_t> channels_;           // per group, unpruned
  struct Filter {
    int group;
    int64_t channel;
  };
  std::vector<Filter> filters_;             // every prunable filter, in the order scores are drawn
  std::vector<size_t> channel_offset_;      // per group: where its channels start in a flat list
  size_t channel_slots_ = 0;                // channels of all groups together
  int64_t params_ = 0;
};

}  // namespace p4s::modelgen
