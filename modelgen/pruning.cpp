#include "modelgen/pruning.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include "modelgen/network_name.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {

RandomChannelPruner::RandomChannelPruner(NetSpec base)
    : base_(std::move(base)), groups_(analyze_channel_groups(base_)) {
  const ShapedNet net = infer_shapes(base_, base_.name);
  for (const ChannelGroup& g : groups_.groups) channels_.push_back(g.channels);
  group_terms_.resize(groups_.groups.size());
  for (size_t i = 0; i < base_.layers.size(); ++i) {
    const Layer& layer = base_.layers[i];
    first_input_.push_back(net.layers[i].inputs.front());
    Term t;
    t.op = layer.op;
    t.in = groups_.segments_of(first_input_.back());
    if (layer.op == Op::kConv2d) {
      const Conv2dAttrs& a = layer.conv();
      t.kernel_area = a.kernel.h * a.kernel.w;
      t.bias = a.bias;
      t.groups = a.groups;
      const bool depthwise = a.groups > 1 && a.groups == a.in_channels && a.out_channels == a.in_channels;
      t.out_group = depthwise ? -1 : groups_.outputs[i].front().group;
    } else if (layer.op == Op::kLinear) {
      t.bias = layer.linear().bias;
      t.out_group = groups_.outputs[i].front().group;
    } else if (layer.op != Op::kBatchNorm2d && layer.op != Op::kLayerNorm2d && layer.op != Op::kScale) {
      continue;  // no parameters
    }
    const int index = static_cast<int>(terms_.size());
    std::vector<int> touched;
    for (const ChannelSegment& s : t.in) touched.push_back(s.group);
    if (t.out_group >= 0) touched.push_back(t.out_group);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (int g : touched) group_terms_[static_cast<size_t>(g)].push_back(index);
    params_ += term_params(t, channels_);
    terms_.push_back(std::move(t));
  }
  // Filters in layer order, each layer's in channel order.
  size_t offset = 0;
  for (const int64_t c : channels_) {
    channel_offset_.push_back(offset);
    offset += static_cast<size_t>(c);
  }
  channel_slots_ = offset;
  for (size_t i = 0; i < base_.layers.size(); ++i) {
    if (base_.layers[i].op != Op::kConv2d && base_.layers[i].op != Op::kLinear) continue;
    for (const ChannelSegment& s : groups_.outputs[i]) {
      const auto g = static_cast<size_t>(s.group);
      if (!groups_.groups[g].prunable || channels_[g] <= kMinChannels) continue;
      for (int64_t c = 0; c < channels_[g]; ++c) filters_.push_back(Filter{s.group, c});
    }
  }
  // The model must agree with shape inference, or every level would be off.
  if (params_ != net.params)
    throw std::logic_error(base_.name + ": pruning parameter model counts " + std::to_string(params_) +
                           " parameters, shape inference " + std::to_string(net.params));
}

int64_t RandomChannelPruner::in_size(const std::vector<ChannelSegment>& in,
                                     const std::vector<int64_t>& channels) const {
  int64_t n = 0;
  for (const ChannelSegment& s : in) n += channels[static_cast<size_t>(s.group)] * s.per_channel;
  return n;
}

int64_t RandomChannelPruner::term_params(const Term& t, const std::vector<int64_t>& channels) const {
  const int64_t in = in_size(t.in, channels);
  switch (t.op) {
    case Op::kBatchNorm2d:
    case Op::kLayerNorm2d: return 2 * in;
    case Op::kScale: return in;
    case Op::kLinear: {
      const int64_t out = channels[static_cast<size_t>(t.out_group)];
      return in * out + (t.bias ? out : 0);
    }
    default: {  // conv2d
      if (t.out_group < 0) return in * t.kernel_area + (t.bias ? in : 0);  // depthwise
      const int64_t out = channels[static_cast<size_t>(t.out_group)];
      return out * (in / t.groups) * t.kernel_area + (t.bias ? out : 0);
    }
  }
}

int64_t RandomChannelPruner::min_params() const {
  std::vector<int64_t> channels = channels_;
  for (size_t g = 0; g < channels.size(); ++g)
    if (groups_.groups[g].prunable) channels[g] = std::min(channels[g], kMinChannels);
  int64_t total = 0;
  for (const Term& t : terms_) total += term_params(t, channels);
  return total;
}

int RandomChannelPruner::highest_level() const {
  if (params_ == 0) return 0;
  return static_cast<int>(std::min<int64_t>(kMaxPrunePercent, 100 * (params_ - min_params()) / params_));
}

NetSpec RandomChannelPruner::with_channels(const std::vector<int64_t>& channels, std::string name) const {
  if (channels.size() != channels_.size())
    throw std::invalid_argument("with_channels: " + std::to_string(channels.size()) +
                                " channel counts for " + std::to_string(channels_.size()) + " groups");
  for (size_t g = 0; g < channels.size(); ++g)
    if ((!groups_.groups[g].prunable && channels[g] != channels_[g]) || channels[g] <= 0)
      throw std::invalid_argument("with_channels: group " + std::to_string(g) + " cannot have " +
                                  std::to_string(channels[g]) + " channels");
  NetSpec out = base_;
  out.name = std::move(name);
  for (size_t i = 0; i < out.layers.size(); ++i) {
    Layer& layer = out.layers[i];
    const std::vector<ChannelSegment>& in = groups_.segments_of(first_input_[i]);
    const std::vector<ChannelSegment>& own = groups_.outputs[i];
    if (layer.op == Op::kConv2d) {
      Conv2dAttrs& a = layer.conv();
      const bool depthwise = a.groups > 1 && a.groups == a.in_channels && a.out_channels == a.in_channels;
      a.in_channels = in_size(in, channels);
      a.out_channels = in_size(own, channels);
      if (depthwise) a.groups = a.in_channels;
    } else if (layer.op == Op::kBatchNorm2d) {
      layer.batchnorm().features = in_size(in, channels);
    } else if (layer.op == Op::kLayerNorm2d || layer.op == Op::kScale) {
      layer.channel().channels = in_size(in, channels);
    } else if (layer.op == Op::kLinear) {
      layer.linear().in_features = in_size(in, channels);
      layer.linear().out_features = in_size(own, channels);
    }
  }
  return out;
}

PruneResult RandomChannelPruner::prune(int level_percent, uint64_t seed, std::string name) const {
  if (level_percent < 0 || level_percent > kMaxPrunePercent)
    throw std::invalid_argument("pruning level " + std::to_string(level_percent) + " is outside 0..95");
  // Without parameters no level above 0 is a fraction of anything (and 0 / 0 is no percentage).
  if (level_percent > 0 && params_ == 0)
    throw PruneError("pruning level " + std::to_string(level_percent) + "% is out of reach for " + name +
                     ": the network has no parameters to remove");
  PruneResult result;
  result.params_before = params_;

  // One score per filter; ties (1 in 2^64) go to the earlier draw, so the order is total and
  // the sort's own behaviour never matters.
  std::vector<std::pair<uint64_t, size_t>> ranking;
  if (level_percent > 0) {
    std::mt19937_64 rng(seed);
    ranking.reserve(filters_.size());
    for (size_t f = 0; f < filters_.size(); ++f) ranking.emplace_back(rng(), f);
    std::sort(ranking.begin(), ranking.end());
  }

  // The pruning state: channels left per group, which channels are gone, parameters per term.
  struct State {
    std::vector<int64_t> channels;
    std::vector<bool> removed;
    std::vector<int64_t> term_values;
    int64_t total = 0;
  };
  State st{channels_, std::vector<bool>(channel_slots_, false), std::vector<int64_t>(terms_.size()), 0};
  for (size_t t = 0; t < terms_.size(); ++t) st.total += st.term_values[t] = term_params(terms_[t], st.channels);

  // Adds `delta` (-1 or +1) channels to group g; the saving counts every layer that makes,
  // follows or reads the group.
  auto change = [&](size_t g, size_t slot, int64_t delta) {
    st.channels[g] += delta;
    st.removed[slot] = delta < 0;
    for (int t : group_terms_[g]) {
      st.total -= st.term_values[static_cast<size_t>(t)];
      st.term_values[static_cast<size_t>(t)] = term_params(terms_[static_cast<size_t>(t)], st.channels);
      st.total += st.term_values[static_cast<size_t>(t)];
    }
  };
  // Reached when total / before <= (100 - level) / 100; past the level by more than one point
  // when total / before < (99 - level) / 100. Exact integers.
  auto reached = [&] { return st.total * 100 <= params_ * (100 - level_percent); };
  auto overshot = [&] { return st.total * 100 < params_ * (99 - level_percent); };

  // Removes filters in score order from ranking[from] on; returns the position after the last
  // one looked at. With `careful`, a filter whose removal would pass the level by more than one
  // point is passed over.
  auto run = [&](size_t from, bool careful) {
    size_t i = from;
    for (; i < ranking.size() && !reached(); ++i) {
      const Filter& filter = filters_[ranking[i].second];
      const auto g = static_cast<size_t>(filter.group);
      const size_t slot = channel_offset_[g] + static_cast<size_t>(filter.channel);
      if (st.removed[slot] || st.channels[g] <= kMinChannels) continue;
      change(g, slot, -1);
      if (careful && overshot()) change(g, slot, +1);
    }
    return i;
  };
  const size_t last = run(0, false);
  // Where the filter that reached the level took a large bite (a small network), put it back
  // and let the filters after it in score order finish more precisely, if they can.
  if (reached() && overshot() && last > 0) {
    const State reached_state = st;
    const Filter& filter = filters_[ranking[last - 1].second];
    const auto g = static_cast<size_t>(filter.group);
    change(g, channel_offset_[g] + static_cast<size_t>(filter.channel), +1);
    run(last, true);
    if (!reached()) st = reached_state;
  }
  const std::vector<int64_t>& channels = st.channels;
  const int64_t total = st.total;
  if (!reached()) {
    const double best = 100.0 * static_cast<double>(params_ - total) / static_cast<double>(params_);
    throw PruneError("pruning level " + std::to_string(level_percent) + "% is out of reach for " +
                     name + ": with every layer down to " + std::to_string(kMinChannels) +
                     " channels at most " + std::to_string(static_cast<int>(best)) +
                     "% of the parameters go");
  }
  result.spec = with_channels(channels, std::move(name));
  result.params_after = total;
  // One validation of the result (never one per channel removed).
  const int64_t checked = infer_shapes(result.spec, result.spec.name).params;
  if (checked != total)
    throw std::logic_error(result.spec.name + ": pruned network has " + std::to_string(checked) +
                           " parameters, the pruning model " + std::to_string(total));
  return result;
}

}  // namespace p4s::modelgen
