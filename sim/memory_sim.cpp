#include "sim/memory_sim.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <queue>
#include <stdexcept>
#include <utility>

#include "common/input_error.hpp"
#include "sim/memory_backend.hpp"
#include "sim/optimizer_step.hpp"

namespace p4s::sim {
namespace {

using modelgen::Layer;
using modelgen::LayerShape;
using modelgen::NetSpec;
using modelgen::Op;
using modelgen::ShapedNet;
using modelgen::TensorShape;

constexpr int64_t kFloatBytes = 4;
constexpr int64_t kHalfBytes = 2;  // bfloat16 and float16
constexpr int64_t kIndexBytes = 8;  // int64 pooling indices and class labels

// Live storages with reference counts: a storage is freed when its last holder lets go.
// Holders are the forward "variables" (until the last consumer ran), autograd's saved
// tensors, gradient buffers, and views of the storage.
class Tracker final : public KernelScope {
 public:
  Tracker(const RuntimeOptions& options, MemorySimResult& out) : options_(options), out_(out) {}

  void at(Phase phase, int layer) {
    phase_ = phase;
    layer_ = layer;
  }
  // Starts step `step`; a measured step's peak starts from what is live now.
  void begin_step(int step, bool measured) {
    step_ = step;
    if (measured) {
      measured_step_ = step;
      live_by_phase_ = {};
      live_by_phase_[index(Phase::kSetup)] = live_;
      out_.peak_bytes = live_;
      out_.peak_phase = Phase::kSetup;
      out_.peak_layer = -1;
      out_.peak_by_phase = live_by_phase_;
      out_.persistent_bytes = live_;
    }
  }

  // A new storage with one reference (its creator's).
  int allocate(int64_t bytes) {
    const int id = static_cast<int>(storages_.size());
    storages_.push_back(Storage{bytes, 1, step_, phase_});
    live_ += rounded(bytes);
    live_by_phase_[bucket(storages_.back())] += rounded(bytes);
    if (options_.record_events) out_.events.push_back(MemoryEvent{step_, id, bytes, true, phase_, layer_});
    if (live_ > out_.peak_bytes) {
      out_.peak_bytes = live_;
      out_.peak_phase = phase_;
      out_.peak_layer = layer_;
      out_.peak_by_phase = live_by_phase_;
    }
    return id;
  }
  void ref(int s) { ++storages_.at(static_cast<size_t>(s)).refs; }
  void unref(int s) {
    Storage& st = storages_.at(static_cast<size_t>(s));
    assert(st.refs > 0);
    if (--st.refs > 0) return;
    live_ -= rounded(st.bytes);
    live_by_phase_[bucket(st)] -= rounded(st.bytes);
    if (options_.record_events) out_.events.push_back(MemoryEvent{step_, s, st.bytes, false, phase_, layer_});
  }
  int refs(int s) const { return storages_.at(static_cast<size_t>(s)).refs; }
  int64_t live() const { return live_; }

  // Results placed by a backend call, in OpCall::results order; -1 until placed.
  void expect_results(const std::vector<int64_t>& sizes) {
    pending_ = sizes;
    placed_.assign(sizes.size(), -1);
  }
  // Places whatever the backend did not, and hands the results over.
  std::vector<int> take_results() {
    for (size_t i = 0; i < pending_.size(); ++i)
      if (placed_[i] < 0) result(i);
    return std::move(placed_);
  }

  int temp(int64_t bytes) override { return allocate(bytes); }
  void release(int handle) override { unref(handle); }
  void result(size_t index) override {
    if (index >= pending_.size() || placed_[index] >= 0)
      throw std::logic_error("memory backend placed result " + std::to_string(index) + " twice or out of range");
    placed_[index] = allocate(pending_[index]);
  }

 private:
  struct Storage {
    int64_t bytes;
    int refs;
    int step;    // the step that allocated it
    Phase born;  // and in which phase
  };
  static size_t index(Phase p) { return static_cast<size_t>(p); }
  // Where a storage counts in MemorySimResult::peak_by_phase: what the measured step began
  // with under kSetup, the rest under the phase that allocated it.
  size_t bucket(const Storage& st) const {
    return index(st.step < measured_step_ ? Phase::kSetup : st.born);
  }
  int64_t rounded(int64_t bytes) const {
    const int64_t r = options_.round_bytes;
    if (r <= 1 || bytes == 0) return bytes;
    return (bytes + r - 1) / r * r;
  }

  const RuntimeOptions& options_;
  MemorySimResult& out_;
  std::vector<Storage> storages_;
  int64_t live_ = 0;
  std::array<int64_t, kPhaseCount> live_by_phase_{};
  Phase phase_ = Phase::kSetup;
  int layer_ = -1;
  int step_ = 0;
  int measured_step_ = 0;
  std::vector<int64_t> pending_;
  std::vector<int> placed_;
};

// Parameter tensors of a layer, in bytes, in the order PyTorch registers them.
std::vector<int64_t> param_tensors(const Layer& l) {
  switch (l.op) {
    case Op::kConv2d: {
      const auto& a = l.conv();
      const int64_t w = a.out_channels * (a.in_channels / a.groups) * a.kernel.h * a.kernel.w;
      if (a.bias) return {w * kFloatBytes, a.out_channels * kFloatBytes};
      return {w * kFloatBytes};
    }
    case Op::kLinear: {
      const auto& a = l.linear();
      if (a.bias) return {a.in_features * a.out_features * kFloatBytes, a.out_features * kFloatBytes};
      return {a.in_features * a.out_features * kFloatBytes};
    }
    case Op::kBatchNorm2d:
      return {l.batchnorm().features * kFloatBytes, l.batchnorm().features * kFloatBytes};
    case Op::kLayerNorm2d:
      return {l.channel().channels * kFloatBytes, l.channel().channels * kFloatBytes};
    case Op::kScale:
      return {l.channel().channels * kFloatBytes};
    default:
      return {};
  }
}

// Whether an op's output is a new allocation (false: a view of, or in place on, its input).
bool allocates_output(const Layer& l) {
  switch (l.op) {
    case Op::kFlatten:
    case Op::kSlice:
    case Op::kIdentity: return false;
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid: return !l.activation().inplace;
    case Op::kDropout:
    case Op::kDropPath: return l.dropout().p > 0.0;
    default: return true;
  }
}

class StepSimulation {
 public:
  StepSimulation(const NetSpec& spec, const ShapedNet& net, int64_t batch, const MemoryBackend& backend,
                 const RuntimeOptions& options, const results::Recipe& recipe, MemorySimResult& out)
      : spec_(spec), net_(net), batch_(batch), backend_(backend), options_(options), recipe_(recipe), out_(out),
        t_(options, out) {
    // A layer trains from first_trainable_layer on; an output needs a gradient where the layer
    // trains and has parameters, or one of its inputs needs one.
    const size_t first = first_trainable_layer(spec, recipe);
    node_.assign(spec.layers.size(), false);
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      bool needs = i >= first && net.layers[i].params > 0;
      for (int p : net.layers[i].inputs) needs |= p >= 0 && node_[static_cast<size_t>(p)];
      node_[i] = needs;
    }
    eval_bn_.assign(spec.layers.size(), false);
    for (size_t i = 0; i < first && recipe.freeze_bn; ++i) eval_bn_[i] = spec.layers[i].op == Op::kBatchNorm2d;
    trains_.assign(spec.layers.size(), false);
    for (size_t i = first; i < spec.layers.size(); ++i) trains_[i] = true;
    // Under autocast, convolutions and linear layers compute in half precision and every op
    // after them keeps their type; an op of mixed inputs computes in the wider one.
    autocast_ = recipe.precision != results::Precision::kFp32;
    elem_.assign(spec.layers.size(), kFloatBytes);
    for (size_t i = 0; i < spec.layers.size(); ++i) {
      if (casts_to_half(i)) {
        elem_[i] = kHalfBytes;
        continue;
      }
      int64_t e = 0;
      for (int p : net.layers[i].inputs) e = std::max(e, p < 0 ? kFloatBytes : elem_[static_cast<size_t>(p)]);
      elem_[i] = e > 0 ? e : kFloatBytes;
    }
  }

  void run() {
    const int warmup = std::max(0, options_.warmup_steps);
    setup(warmup == 0 && options_.steady_state);
    for (int s = 1; s <= warmup + 1; ++s) {
      const bool measured = s == warmup + 1;
      fresh_ = s == 1 && !(warmup == 0 && options_.steady_state);
      t_.begin_step(s, measured);
      if (recipe_.zero_grad_to_none) {
        // zero_grad(set_to_none=True) first: the last step's gradients go.
        t_.at(Phase::kForward, -1);
        for (auto& layer : grads_)
          for (int& g : layer)
            if (g >= 0) t_.unref(std::exchange(g, -1));
      }
      forward();
      loss_forward(measured);
      backward();
      optimizer();
    }
  }

 private:
  int64_t bytes_of(const TensorShape& s, int64_t elem = kFloatBytes) const { return s.numel() * batch_ * elem; }
  int64_t out_bytes(size_t i) const { return bytes_of(net_.layers[i].out, elem_[i]); }
  int64_t elem_of(int layer) const { return layer < 0 ? kFloatBytes : elem_[static_cast<size_t>(layer)]; }
  // The order in which autocast casts a layer's parameters (indices into param_tensors), as
  // LibTorch 1.13's CPU autocast was seen to: a convolution's bias before its weight, a linear
  // layer's weight before its bias.
  static std::vector<size_t> cast_order(const Layer& l) {
    const size_t n = param_tensors(l).size();
    std::vector<size_t> order(n);
    for (size_t k = 0; k < n; ++k) order[k] = l.op == Op::kConv2d ? n - 1 - k : k;
    return order;
  }
  // Autocast's lower-precision ops among ours: convolutions and linear layers.
  bool casts_to_half(size_t i) const {
    return autocast_ && (spec_.layers[i].op == Op::kConv2d || spec_.layers[i].op == Op::kLinear);
  }
  bool has_node(int layer) const { return layer >= 0 && node_[static_cast<size_t>(layer)]; }
  // Whether layer i's (first) input is a strided view: a slice of some of a batch's channels.
  bool strided_input(size_t i) const {
    const int p = net_.layers[i].inputs[0];
    return p >= 0 && strided_out_[static_cast<size_t>(p)];
  }
  // An in-place activation whose backward needs the input it overwrote saves a copy of it.
  bool inplace_saves_input_copy(Op op) const {
    switch (op) {
      case Op::kRelu6: return options_.relu6_inplace_copies_input;
      case Op::kSilu:
      case Op::kHardswish:
      case Op::kHardsigmoid: return true;
      default: return false;
    }
  }

  // The model, its training state when `warm` (gradients and the optimizer's state of the
  // parameters that train), the batch.
  void setup(bool warm) {
    t_.at(Phase::kSetup, -1);
    input_ = t_.allocate(bytes_of(net_.input));
    t_.allocate(batch_ * kIndexBytes);  // labels
    const int state = state_tensors_per_param(recipe_);
    const int64_t state_scalar = state_scalar_bytes(recipe_, backend_.wraps_scalars());
    grads_.assign(spec_.layers.size(), {});
    for (size_t i = 0; i < spec_.layers.size(); ++i) {
      const Layer& l = spec_.layers[i];
      for (int64_t p : param_tensors(l)) {
        t_.allocate(p);
        out_.weight_bytes += p;
        if (!trains_[i]) continue;
        params_.push_back(p);
        grads_[i].push_back(-1);
        if (warm) {
          grads_[i].back() = t_.allocate(p);  // .grad, from the step before
          for (int k = 0; k < state; ++k) t_.allocate(p);
          if (state_scalar > 0) t_.allocate(state_scalar);
        }
      }
      if (l.op == Op::kBatchNorm2d) {
        t_.allocate(l.batchnorm().features * kFloatBytes);  // running_mean
        t_.allocate(l.batchnorm().features * kFloatBytes);  // running_var
        t_.allocate(kIndexBytes);                           // num_batches_tracked
      }
    }
  }

  OpCall call_for(size_t i) const {
    OpCall c;
    c.layer = &spec_.layers[i];
    c.shape = &net_.layers[i];
    for (int p : net_.layers[i].inputs) c.inputs.push_back(net_.shape_of(p));
    c.batch = batch_;
    c.elem_bytes = elem_[i];
    return c;
  }

  void forward() {
    const size_t n = spec_.layers.size();
    out_storage_.assign(n, -1);
    strided_out_.assign(n, false);
    input_cast_.assign(n, false);
    cache_.clear();
    uses_.assign(n, 0);
    saved_.assign(n, {});
    for (size_t i = 0; i < n; ++i)
      for (int p : net_.layers[i].inputs)
        if (p >= 0) ++uses_[static_cast<size_t>(p)];
    ++uses_[static_cast<size_t>(net_.output)];  // the loss

    for (size_t i = 0; i < n; ++i) {
      t_.at(Phase::kForward, static_cast<int>(i));
      const Layer& l = spec_.layers[i];
      const bool node = has_node(static_cast<int>(i));
      std::vector<int> ins;
      for (int p : net_.layers[i].inputs) ins.push_back(p < 0 ? input_ : out_storage_[static_cast<size_t>(p)]);

      // Autocast casts the parameters (in cast_order), then a float32 input. A parameter
      // that trains is a leaf that requires a gradient, whose cast autocast caches until its
      // scope ends; a frozen one is cast at every call.
      std::vector<int> param_casts;
      int input_cast = -1;
      if (casts_to_half(i)) {
        const std::vector<int64_t> params = param_tensors(l);
        param_casts.assign(params.size(), -1);
        for (size_t k : cast_order(l)) {
          const int cast = t_.allocate(params[k] / kFloatBytes * kHalfBytes);
          if (trains_[i]) {
            t_.ref(cast);
            cache_.push_back(cast);
          }
          param_casts[k] = cast;
        }
        const int in = net_.layers[i].inputs[0];
        if (elem_of(in) != kHalfBytes) {
          input_cast = t_.allocate(bytes_of(net_.shape_of(in), kHalfBytes));
          ins[0] = input_cast;
        }
      }
      input_cast_[i] = input_cast >= 0;

      OpCall c = call_for(i);
      const bool alloc_out = allocates_output(l);
      if (alloc_out) c.results.push_back(out_bytes(i));
      // An in-place op whose backward needs its original input saves a clone of it first.
      const bool clones_input = node && !alloc_out && inplace_saves_input_copy(l.op);
      if (clones_input) c.results.push_back(bytes_of(c.inputs[0]));
      const int64_t out_numel = net_.layers[i].out.numel() * batch_;
      if (l.op == Op::kMaxPool2d) c.results.push_back(out_numel * kIndexBytes);
      if (l.op == Op::kBatchNorm2d) {
        // save_mean and save_invstd; empty in eval mode, which uses the running statistics.
        const int64_t stat = eval_bn_[i] ? 0 : l.batchnorm().features * kFloatBytes;
        c.results.push_back(stat);
        c.results.push_back(stat);
      }
      if (l.op == Op::kDropout && alloc_out) c.results.push_back(out_numel * backend_.dropout_mask_bytes(elem_[i]));
      if (l.op == Op::kDropPath && alloc_out) c.results.insert(c.results.begin(), batch_ * elem_[i]);  // noise first
      // Layer norm over channels runs on a channels-last view: layer_norm's own contiguous
      // copy of it, its result, mean and rstd per position; then the contiguous NCHW copy of
      // the result. Where a sample is one position, both views are contiguous: no copies.
      const bool ln_copies = l.op == Op::kLayerNorm2d && net_.layers[i].out.height * net_.layers[i].out.width > 1;
      if (l.op == Op::kLayerNorm2d) {
        const int64_t positions = batch_ * net_.layers[i].out.height * net_.layers[i].out.width;
        c.results.push_back(positions * kFloatBytes);
        c.results.push_back(positions * kFloatBytes);
      }
      const int ln_input_copy = ln_copies ? t_.allocate(bytes_of(c.inputs[0], elem_[i])) : -1;
      // A convolution makes a contiguous copy of a strided input (a slice of channels) for the
      // call; autograd saves the view.
      const bool copies_input = l.op == Op::kConv2d && input_cast < 0 && strided_input(i);
      const int input_copy = copies_input ? t_.allocate(bytes_of(c.inputs[0], elem_of(net_.layers[i].inputs[0]))) : -1;
      t_.expect_results(c.results);
      backend_.forward(t_, c);
      std::vector<int> res = t_.take_results();
      if (input_copy >= 0) t_.unref(input_copy);
      if (l.op == Op::kDropPath && alloc_out) std::rotate(res.begin(), res.begin() + 1, res.end());  // output first
      if (ln_copies) {
        t_.unref(ln_input_copy);
        const int nchw = t_.allocate(out_bytes(i));
        t_.unref(res[0]);
        res[0] = nchw;
      }

      // The output storage, held by the forward variable until its last consumer ran.
      int out;
      if (alloc_out) {
        out = res[0];
      } else {
        out = ins[0];
        t_.ref(out);
      }
      out_storage_[i] = out;
      // A slice of some of the channels of a batch is a strided view; identity passes it on.
      if (l.op == Op::kSlice)
        strided_out_[i] = batch_ > 1 && net_.layers[i].out.channels < c.inputs[0].channels;
      else if (l.op == Op::kIdentity && net_.layers[i].inputs[0] >= 0)
        strided_out_[i] = strided_out_[static_cast<size_t>(net_.layers[i].inputs[0])];

      // What autograd saves for backward (only when a gradient will flow).
      std::vector<int>& saved = saved_[i];
      auto save = [&](int s) {
        t_.ref(s);
        saved.push_back(s);
      };
      if (node) {
        switch (l.op) {
          case Op::kConv2d:
          case Op::kLinear:
            save(ins[0]);
            // The weight itself is persistent; its cast is saved where autocast made one.
            if (!param_casts.empty()) save(param_casts[0]);
            break;
          case Op::kAvgPool2d:
            save(ins[0]);
            break;
          case Op::kBatchNorm2d:
            save(ins[0]);
            save(res[1]);
            save(res[2]);
            break;
          case Op::kMaxPool2d:
            save(ins[0]);
            save(res[1]);
            break;
          case Op::kAdaptiveAvgPool2d:
            if (options_.adaptive_pool_saves_input || l.adaptive_pool().output_size != modelgen::Hw{1, 1})
              save(ins[0]);
            break;
          case Op::kRelu:
            save(out);  // threshold_backward uses the result, in place or not
            break;
          case Op::kRelu6:
          case Op::kSilu:
          case Op::kHardswish:
          case Op::kHardsigmoid:
          case Op::kGelu:
            if (clones_input) {
              saved.push_back(res[0]);  // the clone: its creator's reference passes to autograd
              res.erase(res.begin());
            } else {
              save(l.activation().inplace ? out : ins[0]);  // hardtanh_ keeps its result
            }
            break;
          case Op::kSigmoid:
            save(out);  // sigmoid_backward uses the result
            break;
          case Op::kDropout:
          case Op::kDropPath:
            if (alloc_out) save(res[1]);  // the mask, or the per-sample noise
            break;
          case Op::kMul: {
            // MulBackward keeps each factor for the other's gradient.
            const std::vector<int>& p = net_.layers[i].inputs;
            if (has_node(p[1])) save(ins[0]);
            if (has_node(p[0])) save(ins[1]);
            break;
          }
          case Op::kScale:
            if (trains_[i]) save(ins[0]);  // for the weight's gradient
            break;
          case Op::kLayerNorm2d:
            save(ins[0]);  // the input (its channels-last view), mean, rstd
            save(res[1]);
            save(res[2]);
            break;
          case Op::kAdd:
          case Op::kConcat:
          case Op::kFlatten:
          case Op::kChannelShuffle:
          case Op::kSlice:
          case Op::kIdentity:
            break;
        }
      }
      // Results that nobody keeps (indices and statistics of a layer without gradient).
      for (size_t r = alloc_out ? 1 : 0; r < res.size(); ++r) t_.unref(res[r]);
      for (int cast : param_casts) t_.unref(cast);
      if (input_cast >= 0) t_.unref(input_cast);

      for (int p : net_.layers[i].inputs)
        if (p >= 0 && --uses_[static_cast<size_t>(p)] == 0) t_.unref(out_storage_[static_cast<size_t>(p)]);
      if (uses_[i] == 0) t_.unref(out); // nothing reads it: dropped at once
    }
  }

  void loss_forward(bool measured) {
    t_.at(Phase::kLoss, -1);
    const int64_t logits = batch_ * spec_.classes * kFloatBytes;
    const int logits_var = out_storage_[static_cast<size_t>(net_.output)];
    if (elem_of(net_.output) == kFloatBytes) {
      log_softmax_ = t_.allocate(logits);  // saved by log_softmax's backward
      t_.unref(logits_var);
      loss_ = t_.allocate(kFloatBytes);
      total_weight_ = t_.allocate(kFloatBytes);  // saved by nll_loss
    } else {
      // Half-precision logits: log_softmax runs on a float32 copy of them (and so its
      // backward returns a float32 gradient, cast back to half).
      const int cast = t_.allocate(logits);
      log_softmax_ = t_.allocate(logits);
      loss_ = t_.allocate(kFloatBytes);
      total_weight_ = t_.allocate(kFloatBytes);
      t_.unref(cast);
      t_.unref(logits_var);
    }
    // Leaving autocast's scope clears its cache: casts nothing saved (biases) go.
    for (int cast : cache_) t_.unref(cast);
    cache_.clear();
    if (measured) {
      out_.end_of_forward_bytes = t_.live();
      out_.saved_bytes = out_.end_of_forward_bytes - out_.persistent_bytes;
    }
  }

  // Hands a gradient to its producer's input buffer; `strided`: a view of part of a larger
  // gradient's channels (concat's backward), which a sum replaces with a contiguous tensor.
  void deliver(int producer, int grad, bool strided = false) {
    if (!has_node(producer)) {
      t_.unref(grad);
      return;
    }
    const size_t p = static_cast<size_t>(producer);
    if (buffer_[p] < 0) {
      buffer_[p] = grad;
      strided_grad_[p] = strided;
    } else if (options_.inplace_grad_accumulation && t_.refs(buffer_[p]) == 1) {
      t_.unref(grad);  // added into the buffer, which nothing else shares
    } else {
      const int sum = t_.allocate(out_bytes(p));
      t_.unref(buffer_[p]);
      t_.unref(grad);
      buffer_[p] = sum;
      strided_grad_[p] = false;
    }
    if (--pending_[p] == 0) ready_.push(producer);
  }

  void backward() {
    const size_t n = spec_.layers.size();
    buffer_.assign(n, -1);
    strided_grad_.assign(n, false);
    pending_.assign(n, 0);
    // Only consumers on a path to the loss send a gradient (a layer whose output nothing
    // reads is no part of the graph the backward pass walks).
    std::vector<bool> reaches_loss(n, false);
    reaches_loss[static_cast<size_t>(net_.output)] = true;
    for (size_t i = n; i-- > 0;)
      if (reaches_loss[i])
        for (int p : net_.layers[i].inputs)
          if (p >= 0) reaches_loss[static_cast<size_t>(p)] = true;
    for (size_t i = 0; i < n; ++i) {
      if (!has_node(static_cast<int>(i)) || !reaches_loss[i]) continue;
      for (int p : net_.layers[i].inputs)
        if (has_node(p)) ++pending_[static_cast<size_t>(p)];
    }
    ++pending_[static_cast<size_t>(net_.output)];

    t_.at(Phase::kBackward, -1);
    const int64_t logits = batch_ * spec_.classes * kFloatBytes;
    const int grad_loss = t_.allocate(kFloatBytes);
    const int grad_log_probs = t_.allocate(logits);  // nll_loss_backward
    t_.unref(grad_loss);
    const int grad_logits = t_.allocate(logits);  // log_softmax_backward
    t_.unref(grad_log_probs);
    t_.unref(log_softmax_);
    if (elem_of(net_.output) == kFloatBytes) {
      deliver(net_.output, grad_logits);
    } else {
      const int half = t_.allocate(out_bytes(static_cast<size_t>(net_.output)));
      t_.unref(grad_logits);
      deliver(net_.output, half);
    }

    while (!ready_.empty()) {
      const int i = ready_.top();
      ready_.pop();
      backward_node(static_cast<size_t>(i));
    }
    // Saved tensors of branches that never received a gradient go with the graph.
    for (auto& saved : saved_)
      for (int s : saved) t_.unref(s);
    saved_.clear();
    t_.unref(total_weight_);  // nll_loss's saved scalar goes with the graph
  }

  void backward_node(size_t i) {
    t_.at(Phase::kBackward, static_cast<int>(i));
    const Layer& l = spec_.layers[i];
    const LayerShape& s = net_.layers[i];
    const int grad_out = buffer_[i];
    const bool grad_strided = strided_grad_[i];
    buffer_[i] = -1;

    OpCall c = call_for(i);
    const bool in_grad = has_node(s.inputs[0]);
    c.input_needs_grad = in_grad;
    // Outputs: (producer, storage) pairs, each holding one reference.
    std::vector<std::pair<int, int>> outs;
    const std::vector<int64_t> params = param_tensors(l);
    switch (l.op) {
      case Op::kMul:
      case Op::kScale: {
        // Each factor's gradient is the incoming one times the other factor, at the product's
        // size (the first factor's first: a scale's weight); the engine then sums a broadcast
        // factor's down to its shape. A scale's weight gradient goes to its .grad.
        const bool scale = l.op == Op::kScale;
        std::vector<std::pair<int, int>> factors;  // (producer or -2 for the weight, storage)
        if (scale ? trains_[i] : has_node(s.inputs[0])) factors.emplace_back(scale ? -2 : s.inputs[0], t_.allocate(out_bytes(i)));
        const int second = scale ? s.inputs[0] : s.inputs[1];
        if (has_node(second)) factors.emplace_back(second, t_.allocate(out_bytes(i)));
        for (auto& [producer, grad] : factors) {
          const TensorShape& shape = producer == -2 ? TensorShape{l.channel().channels, 1, 1, false} : net_.shape_of(producer);
          if (shape == s.out) continue;
          const int64_t bytes = producer == -2 ? params[0] : bytes_of(shape, elem_[i]);
          const int reduced = t_.allocate(bytes);
          t_.unref(grad);
          grad = reduced;
        }
        t_.unref(grad_out);
        for (int saved : saved_[i]) t_.unref(saved);
        saved_[i].clear();
        for (const auto& [producer, grad] : factors) {
          if (producer == -2)
            accumulate(i, 0, grad);
          else
            deliver(producer, grad);
        }
        return;
      }
      case Op::kLayerNorm2d: {
        // layer_norm's backward on channels-last views: a contiguous copy of the input, the
        // input gradient, the weight and bias gradients, a contiguous copy of the gradient.
        const bool copies = s.out.height * s.out.width > 1;
        const int x_copy = copies ? t_.allocate(bytes_of(c.inputs[0], elem_[i])) : -1;
        const int dx = in_grad ? t_.allocate(out_bytes(i)) : -1;
        const int dgamma = trains_[i] ? t_.allocate(params[0]) : -1;
        const int dbeta = trains_[i] ? t_.allocate(params[1]) : -1;
        const int dy_copy = copies ? t_.allocate(out_bytes(i)) : -1;
        if (dy_copy >= 0) t_.unref(dy_copy);
        if (x_copy >= 0) t_.unref(x_copy);
        t_.unref(grad_out);
        for (int saved : saved_[i]) t_.unref(saved);
        saved_[i].clear();
        if (dgamma >= 0) {
          accumulate(i, 0, dgamma);
          accumulate(i, 1, dbeta);
        }
        if (dx >= 0 && copies) {
          // The input gradient, channels-last, made contiguous (modelgen_torch's LayerNorm2d).
          const int contiguous = t_.allocate(out_bytes(i));
          t_.unref(dx);
          deliver(s.inputs[0], contiguous);
        } else if (dx >= 0) {
          deliver(s.inputs[0], dx);
        }
        return;
      }
      case Op::kAdd:
      case Op::kConcat:
      case Op::kFlatten:
      case Op::kIdentity:
        // The incoming gradient itself (add) or views of it (concat slices, flatten).
        for (int p : s.inputs) {
          t_.ref(grad_out);
          outs.emplace_back(p, grad_out);
        }
        t_.unref(grad_out);
        for (int saved : saved_[i]) t_.unref(saved);
        saved_[i].clear();
        for (const auto& [producer, grad] : outs)
          deliver(producer, grad, l.op == Op::kConcat ? batch_ > 1 : grad_strided);
        return;
      case Op::kDropout:
      case Op::kDropPath:
        if (!allocates_output(l)) {
          outs.emplace_back(s.inputs[0], grad_out);
          break;
        }
        [[fallthrough]];
      default: {
        const bool half_params = casts_to_half(i);
        // The gradient of the input the op consumed: of its half-precision cast, if it made one.
        if (in_grad) c.results.push_back(bytes_of(c.inputs[0], input_cast_[i] ? kHalfBytes : elem_of(s.inputs[0])));
        if (trains_[i])
          for (int64_t p : params) c.results.push_back(half_params ? p / kFloatBytes * kHalfBytes : p);
        // A convolution's backward makes contiguous copies of a strided gradient and of a
        // strided (sliced) input it saved, for the call.
        std::vector<int> copies;
        if (l.op == Op::kConv2d) {
          if (grad_strided) copies.push_back(t_.allocate(out_bytes(i)));
          if (strided_input(i) && !input_cast_[i])
            copies.push_back(t_.allocate(bytes_of(c.inputs[0], elem_of(s.inputs[0]))));
        }
        t_.expect_results(c.results);
        backend_.backward(t_, c);
        std::vector<int> res = t_.take_results();
        for (int copy : copies) t_.unref(copy);
        size_t r = 0;
        if (in_grad) outs.emplace_back(s.inputs[0], res[r++]);
        t_.unref(grad_out);
        for (int saved : saved_[i]) t_.unref(saved);
        saved_[i].clear();
        if (in_grad && input_cast_[i]) {
          // The input cast's backward: the gradient back in the input's own type.
          const int full = t_.allocate(bytes_of(c.inputs[0], elem_of(s.inputs[0])));
          t_.unref(outs[0].second);
          outs[0].second = full;
        }
        for (const auto& [producer, grad] : outs) deliver(producer, grad);
        outs.clear();
        if (half_params) {
          // Each cast's backward (ToCopyBackward, created just before this op's node, so run
          // next, the latest cast first) makes a float32 gradient of it.
          const std::vector<size_t> order = cast_order(l);
          for (auto k = order.rbegin(); k != order.rend(); ++k) {
            const int full = t_.allocate(params[*k]);
            t_.unref(res[r + *k]);
            accumulate(i, *k, full);
          }
          return;
        }
        for (size_t k = 0; r + k < res.size(); ++k) accumulate(i, k, res[r + k]);
        return;
      }
    }
    for (int saved : saved_[i]) t_.unref(saved);
    saved_[i].clear();
    for (const auto& [producer, grad] : outs) deliver(producer, grad);
  }

  // AccumulateGrad of layer i's parameter k: adds the new gradient into the existing .grad and
  // drops it; where there is none (the first step, or zero_grad set it to none) the new
  // gradient becomes .grad.
  void accumulate(size_t i, size_t k, int grad) {
    int& g = grads_[i].at(k);
    if (g < 0) {
      g = grad;
    } else {
      t_.unref(grad);
    }
  }

  void optimizer() {
    t_.at(Phase::kOptimizer, -1);
    optimizer_step(t_, params_, fresh_, recipe_, backend_.wraps_scalars());
    // The training loop holds the loss through the optimizer's step (until the next step
    // replaces it, which the step's peak does not see).
    t_.unref(loss_);
  }

  const NetSpec& spec_;
  const ShapedNet& net_;
  const int64_t batch_;
  const MemoryBackend& backend_;
  const RuntimeOptions& options_;
  const results::Recipe& recipe_;
  MemorySimResult& out_;
  Tracker t_;
  std::vector<bool> node_;     // per layer: whether its output needs a gradient
  std::vector<bool> trains_;   // per layer: whether its parameters train
  std::vector<bool> eval_bn_;  // per layer: a frozen batch norm in eval mode
  bool autocast_ = false;       // bf16 or fp16 autocast over forward and loss
  std::vector<int64_t> elem_;   // per layer: bytes per element of its output
  std::vector<bool> input_cast_;  // per layer: autocast cast its float32 input to half
  std::vector<int> cache_;      // autocast's cached casts of trainable parameters
  bool fresh_ = false;  // the first step ever: gradients and momentum are born in it
  int input_ = -1;
  int log_softmax_ = -1, loss_ = -1, total_weight_ = -1;
  std::vector<int64_t> params_;
  std::vector<std::vector<int>> grads_;  // per layer, per parameter: its .grad's storage, or -1
  std::vector<int> out_storage_;
  std::vector<bool> strided_out_;   // per layer: its output is a strided view (a slice)
  std::vector<bool> strided_grad_;  // per layer: its gradient buffer is a strided view
  std::vector<int> uses_;
  std::vector<std::vector<int>> saved_;
  std::vector<int> buffer_;
  std::vector<int> pending_;
  std::priority_queue<int> ready_;  // the engine runs the latest-created ready node first
};

}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kSetup: return "setup";
    case Phase::kForward: return "forward";
    case Phase::kLoss: return "loss";
    case Phase::kBackward: return "backward";
    case Phase::kOptimizer: return "optimizer";
  }
  return "?";
}

size_t first_trainable_layer(const NetSpec& spec, const results::Recipe& recipe) {
  if (recipe.train_from.empty()) return 0;
  for (size_t i = 0; i < spec.layers.size(); ++i)
    if (spec.layers[i].name == recipe.train_from) return i;
  throw InputError("network \"" + spec.name + "\"", "train_from",
                   "\"" + recipe.train_from + "\" names no layer of the network");
}

MemorySimResult simulate_training_step(const NetSpec& spec, const ShapedNet& net, int64_t batch,
                                       const MemoryBackend& backend, const RuntimeOptions& options,
                                       const results::Recipe& recipe) {
  if (batch < 1) throw std::invalid_argument("simulate_training_step: batch must be >= 1");
  MemorySimResult out;
  StepSimulation(spec, net, batch, backend, options, recipe, out).run();
  return out;
}

}  // namespace p4s::sim
