#include "modelgen/channel_groups.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include "modelgen/shapes.hpp"

namespace p4s::modelgen {
namespace {

// Groups are made provisionally, one per producer, and joined by add; the final numbering
// comes after all joins.
class Provisional {
 public:
  int make(int64_t channels) {
    parent_.push_back(static_cast<int>(parent_.size()));
    channels_.push_back(channels);
    frozen_.push_back(false);
    return parent_.back();
  }
  int find(int g) {
    while (parent_[static_cast<size_t>(g)] != g) {
      parent_[static_cast<size_t>(g)] = parent_[static_cast<size_t>(parent_[static_cast<size_t>(g)])];
      g = parent_[static_cast<size_t>(g)];
    }
    return g;
  }
  void join(int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (b < a) std::swap(a, b);  // the earlier group stays the root: numbering by appearance
    parent_[static_cast<size_t>(b)] = a;
  }
  void freeze(const std::vector<ChannelSegment>& segments) {
    for (const ChannelSegment& s : segments) frozen_[static_cast<size_t>(s.group)] = true;
  }
  size_t size() const { return parent_.size(); }
  int64_t channels(int g) const { return channels_[static_cast<size_t>(g)]; }
  bool frozen(int g) const { return frozen_[static_cast<size_t>(g)]; }

 private:
  std::vector<int> parent_;
  std::vector<int64_t> channels_;
  std::vector<bool> frozen_;
};

// Appends a run to a tensor's list, where one of its group is already there by adding its
// elements per channel to that one: each list holds a group once (concat(x, x): x's channels
// twice), the sizes (all pruning needs) being the same as with the copies listed apart.
void add_run(std::vector<ChannelSegment>& runs, const ChannelSegment& s) {
  auto same = std::find_if(runs.begin(), runs.end(), [&](const ChannelSegment& t) { return t.group == s.group; });
  if (same != runs.end())
    same->per_channel += s.per_channel;
  else
    runs.push_back(s);
}

bool same_layout(const Provisional& p, const std::vector<ChannelSegment>& a,
                 const std::vector<ChannelSegment>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].per_channel != b[i].per_channel || p.channels(a[i].group) != p.channels(b[i].group))
      return false;
  return true;
}

}  // namespace

ChannelGroups analyze_channel_groups(const NetSpec& spec) {
  const ShapedNet net = infer_shapes(spec, spec.name);
  Provisional prov;
  ChannelGroups out;
  out.input = {ChannelSegment{prov.make(spec.input.channels), 1}};
  prov.freeze(out.input);
  out.outputs.resize(spec.layers.size());

  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const Layer& layer = spec.layers[i];
    const LayerShape& shape = net.layers[i];
    const std::vector<ChannelSegment>& first = out.segments_of(shape.inputs.front());
    std::vector<ChannelSegment>& segs = out.outputs[i];
    switch (layer.op) {
      case Op::kConv2d: {
        const Conv2dAttrs& a = layer.conv();
        if (a.groups == 1) {
          segs = {ChannelSegment{prov.make(a.out_channels), 1}};
        } else if (a.groups == a.in_channels && a.out_channels == a.in_channels) {
          segs = first;  // depthwise: its channels, and its groups, follow its input
        } else {
          prov.freeze(first);
          segs = {ChannelSegment{prov.make(a.out_channels), 1}};
          prov.freeze(segs);
        }
        break;
      }
      case Op::kLinear:
        segs = {ChannelSegment{prov.make(layer.linear().out_features), 1}};
        break;
      case Op::kAdd:
      case Op::kMul: {
        // mul's per-channel factor ([C, 1, 1]: squeeze-excitation's scale) holds the same
        // channels as the tensor it scales, so it joins them as add does.
        const std::vector<ChannelSegment>& second = out.segments_of(shape.inputs[1]);
        if (same_layout(prov, first, second)) {
          for (size_t s = 0; s < first.size(); ++s) prov.join(first[s].group, second[s].group);
        } else {
          prov.freeze(first);
          prov.freeze(second);
        }
        segs = first;
        break;
      }
      case Op::kConcat:
        // Listing the copies apart, a chain of concats of a tensor with itself doubled its list
        // at every step (22 such concats: 4 M runs).
        for (int producer : shape.inputs)
          for (const ChannelSegment& s : out.segments_of(producer)) add_run(segs, s);
        break;
      case Op::kFlatten: {
        const TensorShape& in = net.shape_of(shape.inputs.front());
        segs = first;
        if (!in.flat)
          for (ChannelSegment& s : segs) s.per_channel *= in.height * in.width;
        break;
      }
      case Op::kChannelShuffle:
      case Op::kSlice:
        // Interleaving or cutting channels by position: removing one would move the others
        // between the halves. Neither the input's groups nor the result can be pruned.
        prov.freeze(first);
        segs = {ChannelSegment{prov.make(shape.out.channels), 1}};
        prov.freeze(segs);
        break;
      case Op::kBatchNorm2d:
      case Op::kRelu:
      case Op::kRelu6:
      case Op::kSilu:
      case Op::kHardswish:
      case Op::kHardsigmoid:
      case Op::kSigmoid:
      case Op::kGelu:
      case Op::kMaxPool2d:
      case Op::kAvgPool2d:
      case Op::kAdaptiveAvgPool2d:
      case Op::kDropout:
      case Op::kDropPath:
      case Op::kIdentity:
      case Op::kScale:
      case Op::kLayerNorm2d:
        segs = first;
        break;
    }
  }
  prov.freeze(out.outputs[static_cast<size_t>(net.output)]);

  // Number the joined groups by first appearance (roots are the earliest member).
  std::vector<int> number(prov.size(), -1);
  for (size_t g = 0; g < prov.size(); ++g) {
    const int root = prov.find(static_cast<int>(g));
    if (number[static_cast<size_t>(root)] < 0) {
      number[static_cast<size_t>(root)] = static_cast<int>(out.groups.size());
      out.groups.push_back(ChannelGroup{prov.channels(root), true, {}});
    }
    ChannelGroup& group = out.groups[static_cast<size_t>(number[static_cast<size_t>(root)])];
    if (prov.frozen(static_cast<int>(g))) group.prunable = false;
  }
  // Groups that add joined become one, which may now come twice in a list.
  auto renumber = [&](std::vector<ChannelSegment>& segs) {
    std::vector<ChannelSegment> runs;
    for (const ChannelSegment& s : segs)
      add_run(runs, ChannelSegment{number[static_cast<size_t>(prov.find(s.group))], s.per_channel});
    segs = std::move(runs);
  };
  renumber(out.input);
  for (std::vector<ChannelSegment>& segs : out.outputs) renumber(segs);
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    if (spec.layers[i].op != Op::kConv2d && spec.layers[i].op != Op::kLinear) continue;
    for (const ChannelSegment& s : out.outputs[i]) {
      std::vector<int>& members = out.groups[static_cast<size_t>(s.group)].members;
      if (members.empty() || members.back() != static_cast<int>(i)) members.push_back(static_cast<int>(i));
    }
  }
  return out;
}

}  // namespace p4s::modelgen
