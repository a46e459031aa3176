// Which channels of a network must be pruned together. A channel group is a set of channels
// that every layer touching it must agree on: the output channels of the convolutions (and
// linear features) that make it, and the input channels, BN features and depthwise groups of
// the layers that read it. Removing one channel of a group removes it from all of them.
//
// Coupling rules (modelgen/README.md, "Pruning"):
// - A conv2d with groups == 1, or a linear layer, makes a new group: its output channels.
// - A depthwise conv2d (groups == in_channels == out_channels) and every layer that keeps
//   channels (batchnorm2d, activations, pooling, dropout) pass their input's groups through.
// - add joins its two inputs' groups into one (residual chains end up as one group); so does
//   mul (a squeeze-excitation's [C, 1, 1] scale and the tensor it scales).
// - scale and layernorm2d (per-channel parameters), the other activations, drop_path and
//   identity pass their input's groups through.
// - channel_shuffle and slice move channels by position: their input's groups and their
//   result cannot be pruned.
// - concat lists its inputs' groups one after the other; a consumer reads them all. A group
//   that comes more than once is one run, counted as often (concat(x, x): x's channels twice).
// - flatten keeps the groups, each channel now worth height x width features, so a linear
//   layer after it has in_features = sum of channels x height x width.
// - Groups that cannot be pruned: the network input's, the ones in the output (the classes),
//   and those of any layer the rules above cannot follow (a grouped, non-depthwise conv2d,
//   a depthwise conv2d with a channel multiplier, an add of differently concatenated inputs).
#pragma once

#include <cstdint>
#include <vector>

#include "modelgen/netspec.hpp"

namespace p4s::modelgen {

// A run of channels of one group inside a tensor; `per_channel` elements per channel along
// the channel (or, once flat, feature) dimension: 1 before a flatten, height x width after,
// times the copies of the group that a concat holds (concat(x, x): 2).
struct ChannelSegment {
  int group = -1;
  int64_t per_channel = 1;
  bool operator==(const ChannelSegment& o) const { return group == o.group && per_channel == o.per_channel; }
};

struct ChannelGroup {
  int64_t channels = 0;      // in the unpruned network
  bool prunable = true;
  // The conv2d / linear layers with a filter (output channel) in this group, in layer order:
  // the layers that make the group, and the depthwise convolutions that pass it through.
  std::vector<int> members;
};

struct ChannelGroups {
  std::vector<ChannelGroup> groups;                  // numbered in order of first appearance
  std::vector<ChannelSegment> input;                 // the network input's channels
  std::vector<std::vector<ChannelSegment>> outputs;  // per layer: its output's runs, each group once

  // The segments of a producer's output, as in LayerShape::inputs (-1: the network input).
  const std::vector<ChannelSegment>& segments_of(int producer) const {
    return producer < 0 ? input : outputs[static_cast<size_t>(producer)];
  }
};

// Precondition: `spec` is valid (infer_shapes accepts it); throws InputError otherwise.
ChannelGroups analyze_channel_groups(const NetSpec& spec);

}  // namespace p4s::modelgen
