#include "sim/cost_terms.hpp"

#include <cmath>
#include <utility>

#include "sim/memory_sim.hpp"

namespace p4s::sim {
namespace {

using modelgen::Op;

constexpr double kFloat = 4.0;
// Convolution kernels compute whole tiles of channels: on a GPU a layer of 33 channels costs
// about what one of 64 does (GEMM tiles of 32); oneDNN on a CPU works on blocks of 16 channels
// (AVX-512) or 8 (AVX2), the blocked layout of the memory simulation's CPU backend.
double padded(double channels, int tile) { return std::ceil(channels / tile) * tile; }

bool is_depthwise(const modelgen::Conv2dAttrs& a) { return a.groups > 1 && a.groups == a.in_channels; }

// The cost of one layer given its per-sample input and output shapes; `param_tensors` counts
// the layer's parameter tensors. Precondition: the op is not flatten.
// LibTorch 1.13's CPU convolution path (at::_convolution's use_mkldnn, as in
// memory_backend.cpp): oneDNN, except for 1x1 stride-1 convolutions of batches under 16 on one
// thread, and single samples of small inputs, which run im2col and a BLAS GEMM.
int64_t cpu_blas_below_batch(const modelgen::Conv2dAttrs& a, const modelgen::TensorShape& input, int threads) {
  const bool pointwise = a.kernel == modelgen::Hw{1, 1} && a.stride == modelgen::Hw{1, 1} &&
                         a.dilation == modelgen::Hw{1, 1};
  if (pointwise && threads <= 1) return 16;
  if (a.groups == 1 && !(a.kernel.h > 3 && a.kernel.w > 3) && input.numel() <= 20480) return 2;
  return 0;
}

// What of a layer's backward runs: none for a layer whose output needs no gradient (a frozen
// one); else the weight gradient where its parameters train, the input gradient where its input
// needs one.
struct Backward {
  bool runs = true;
  bool weight_grad = true;
  bool input_grad = true;
};

LayerCost cost_of(const modelgen::Layer& l, const modelgen::TensorShape& input, const modelgen::TensorShape& output,
                  const Backward& bw, double& param_tensors, const CostOptions& options) {
  const double in = input.numel() * kFloat;  // per sample
  const double o = output.numel() * kFloat;
  // Forward, weight gradient, and input gradient when one is needed.
  const double passes = 1.0 + (bw.runs && bw.weight_grad ? 1 : 0) + (bw.runs && bw.input_grad ? 1 : 0);
  // Ops without parameters: one kernel and `forward` bytes, and a second kernel and `backward`
  // bytes where the backward runs.
  const double back = bw.runs ? 1 : 0;
  LayerCost c;
  switch (l.op) {
    case Op::kConv2d: {
      const auto& a = l.conv();
      if (bw.weight_grad) param_tensors += a.bias ? 2 : 1;
      c.ops = passes;
      if (is_depthwise(a)) {
        c.depthwise_bytes = (in + o) * passes;
        const double taps = 2.0 * a.kernel.h * a.kernel.w * output.numel();  // one pass
        if (options.cpu && a.kernel != modelgen::Hw{3, 3}) {
          c.depthwise_gemm_flops = taps;
          c.depthwise_flops = taps * (passes - 1);
        } else if (!options.cpu && a.kernel != modelgen::Hw{3, 3} && a.kernel != modelgen::Hw{1, 1}) {
          c.generic_depthwise_flops = taps * passes;
        } else {
          c.depthwise_flops = taps * passes;
        }
        c.depthwise_ops = passes;
      } else {
        const double g = static_cast<double>(a.groups);
        const double flops = 2.0 * g * padded(a.in_channels / g, options.channel_tile) *
                             padded(a.out_channels / g, options.channel_tile) * a.kernel.h * a.kernel.w *
                             output.height * output.width * passes;
        (a.groups > 1 ? c.grouped_flops : c.tile_flops) = flops;
        c.bytes = (in + o) * passes;
        if (options.cpu) {
          c.blas_below_batch = cpu_blas_below_batch(a, input, options.cpu_threads);
          c.blas_flops = 2.0 * (a.in_channels / g) * a.out_channels * a.kernel.h * a.kernel.w * output.height *
                         output.width * passes;
        }
      }
      break;
    }
    case Op::kLinear:
      if (bw.weight_grad) param_tensors += l.linear().bias ? 2 : 1;
      c.ops = passes;
      c.linear_flops = 2.0 * padded(l.linear().in_features, options.channel_tile) *
                       padded(l.linear().out_features, options.channel_tile) * passes;
      c.bytes = (in + o) * passes;
      break;
    case Op::kBatchNorm2d:
      if (bw.weight_grad) param_tensors += 2;
      c.ops = 1 + back;
      c.bytes = in * 3 + back * in * 4;  // forward: statistics, normalisation; backward: four passes
      break;
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid:
    case Op::kSigmoid:
    case Op::kGelu:
      c.ops = 1 + back;
      c.bytes = in * 2 + back * in * 3;
      // SiLU's forward and backward each take an exp per element; sigmoid's backward reuses
      // its result; GELU's forward takes an erf, its backward an erf and an exp.
      if (l.op == Op::kSilu) c.transcendental = input.numel() * (1 + back);
      if (l.op == Op::kSigmoid) c.transcendental = input.numel();
      if (l.op == Op::kGelu) c.transcendental = input.numel() * (1 + 2 * back);
      break;
    case Op::kMul:
      // Forward reads both and writes the product; backward multiplies the gradient by each
      // input (a broadcast factor's gradient summed over the positions).
      c.ops = 1 + 2 * back;
      c.bytes = o * 3 + back * o * 6;
      break;
    case Op::kScale:
      if (bw.weight_grad) param_tensors += 1;
      c.ops = 1 + 2 * back;
      c.bytes = in * 2 + back * in * 5;
      break;
    case Op::kLayerNorm2d:
      // Forward: the channels-last copy, the normalisation, the copy back; backward: copies of
      // the input and the gradient, the normalisation's backward, the weight gradients.
      if (bw.weight_grad) param_tensors += 2;
      c.ops = 3 + back * 4;
      c.bytes = in * 6 + back * in * 9;
      break;
    case Op::kChannelShuffle:
      c.ops = 1 + back;
      c.bytes = in * 2 + back * in * 2;
      break;
    case Op::kSlice:
      // A view; its backward writes zeros over the whole input, then the slice's gradient.
      c.ops = 2 * back;
      c.bytes = back * (in + o * 2);
      break;
    case Op::kDropPath:
      if (l.dropout().p == 0.0) break;  // the input itself
      c.ops = 3 + back;  // the per-sample noise (tiny), its scaling, the product
      c.bytes = in * 2 + back * in * 2;
      break;
    case Op::kMaxPool2d:
    case Op::kAvgPool2d:
    case Op::kAdaptiveAvgPool2d:
      c.ops = 1 + back;
      c.bytes = in + o + back * (in + o * 2);
      break;
    case Op::kAdd:
      c.ops = 1;  // its backward passes the gradient on
      c.bytes = o * 3;
      break;
    case Op::kConcat:
      c.ops = 1 + back;
      c.bytes = o * 2 + back * o * 2;
      break;
    case Op::kDropout:
      c.ops = 1 + back;
      c.bytes = in * 2 + back * in * 2;
      break;
    case Op::kFlatten:
    case Op::kIdentity:
      break;
  }
  return c;
}

// The optimizer's kernels per parameter tensor (zero_grad's included) and the floats they move
// per parameter, by what it runs (optimizer_step.hpp): the default SGD (weight decay, momentum)
// runs five kernels moving about eight floats a parameter; the others scale from it by the
// reads and writes of their kernels.
struct OptimizerWork {
  double kernels;
  double floats;
};
// The kernels, and the tensors each reads and writes summed, as the optimizer runs them.
OptimizerWork optimizer_kernels(const results::Recipe& r) {
  const bool decay = r.weight_decay > 0;
  double kernels = 1, moved = 1;  // zero_grad writes the gradient
  auto kernel = [&](double reads_and_writes) {
    kernels += 1;
    moved += reads_and_writes;
  };
  switch (r.optimizer) {
    case results::Optimizer::kSgd:
    case results::Optimizer::kSgdNesterov:
      if (decay) kernel(3);         // d_p = grad + wd * p
      if (r.momentum > 0) {
        kernel(2);                  // buf *= momentum
        kernel(3);                  // buf += d_p
        if (r.optimizer == results::Optimizer::kSgdNesterov) kernel(3);  // d_p + momentum * buf
      }
      kernel(3);                    // p -= lr * d_p
      break;
    case results::Optimizer::kAdam:
    case results::Optimizer::kAdamW:
      if (decay) kernel(r.optimizer == results::Optimizer::kAdam ? 3 : 2);  // grad + wd * p, or p *= 1 - lr * wd
      kernel(2);                    // exp_avg *= beta1
      kernel(3);                    // exp_avg += (1 - beta1) grad
      kernel(2);                    // exp_avg_sq *= beta2
      kernel(3);                    // exp_avg_sq += (1 - beta2) grad^2
      kernel(2);                    // sqrt
      kernel(2);                    // / sqrt(bias correction)
      kernel(2);                    // + eps
      kernel(4);                    // p -= step * exp_avg / denom
      break;
  }
  return OptimizerWork{kernels, moved};
}

OptimizerWork optimizer_work(const results::Recipe& r) {
  constexpr double kDefaultFloats = 8;  // the default SGD's floats a parameter, as costed
  static const double default_moved = optimizer_kernels(results::default_recipe()).floats;
  const OptimizerWork w = optimizer_kernels(r);
  return OptimizerWork{w.kernels, w.floats * kDefaultFloats / default_moved};
}

LayerCost optimizer_cost(double param_tensors, double params, const results::Recipe& recipe) {
  const OptimizerWork w = optimizer_work(recipe);
  LayerCost opt;
  opt.ops = w.kernels * param_tensors;
  opt.fixed_bytes = params * kFloat * w.floats;
  return opt;
}

}  // namespace

std::vector<LayerCost> layer_costs(const modelgen::NetSpec& spec, const modelgen::ShapedNet& net,
                                   const CostOptions& options, const results::Recipe& recipe) {
  // As the memory simulation: layers train from first_trainable_layer on; an output needs a
  // gradient where its layer trains and has parameters, or one of its inputs needs one.
  const size_t first = first_trainable_layer(spec, recipe);
  std::vector<bool> node(spec.layers.size(), false);
  std::vector<LayerCost> out;
  double param_tensors = 0, params = 0;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const auto& l = spec.layers[i];
    const auto& s = net.layers[i];
    bool needs = i >= first && s.params > 0;
    for (int p : s.inputs) needs |= p >= 0 && node[static_cast<size_t>(p)];
    node[i] = needs;
    if (i >= first) params += static_cast<double>(s.params);
    if (l.op == Op::kFlatten || l.op == Op::kIdentity) continue;  // a view: no kernel
    Backward bw;
    bw.runs = node[i];
    bw.weight_grad = i >= first;
    bw.input_grad = s.inputs[0] >= 0 && node[static_cast<size_t>(s.inputs[0])];
    out.push_back(cost_of(l, net.shape_of(s.inputs[0]), s.out, bw, param_tensors, options));
  }
  out.push_back(optimizer_cost(param_tensors, params, recipe));
  // The loss (log-softmax and NLL, forward and backward).
  LayerCost loss;
  loss.ops = 4;
  loss.bytes = static_cast<double>(spec.classes) * kFloat * 6;
  out.push_back(loss);
  return out;
}

namespace {

// One layer of a layer case with its per-sample input and output (a squeeze-excitation case
// has several).
struct CaseLayer {
  modelgen::Layer layer;
  modelgen::TensorShape in, out;
};

// The trainable parameter elements of a layer case's layer.
double case_layer_params(const modelgen::Layer& l) {
  switch (l.op) {
    case Op::kConv2d: {
      const modelgen::Conv2dAttrs& a = l.conv();
      return static_cast<double>(a.out_channels) * (a.in_channels / a.groups) * a.kernel.h * a.kernel.w +
             (a.bias ? static_cast<double>(a.out_channels) : 0.0);
    }
    case Op::kLinear: return static_cast<double>(l.linear().in_features + (l.linear().bias ? 1 : 0)) * l.linear().out_features;
    case Op::kBatchNorm2d: return 2.0 * l.batchnorm().features;
    case Op::kLayerNorm2d: return 2.0 * l.channel().channels;
    default: return 0;
  }
}

// The activation op of an activation case's kind (bench/README.md), or nullopt.
std::optional<Op> case_activation(const std::string& kind) {
  if (kind == "SiLU") return Op::kSilu;
  if (kind == "Hardswish") return Op::kHardswish;
  if (kind == "Hardsigmoid") return Op::kHardsigmoid;
  if (kind == "Sigmoid") return Op::kSigmoid;
  if (kind == "GELU") return Op::kGelu;
  return std::nullopt;
}

modelgen::Layer case_layer(Op op, modelgen::LayerAttrs attrs) {
  modelgen::Layer l;
  l.op = op;
  l.attrs = std::move(attrs);
  return l;
}

}  // namespace

std::optional<std::vector<LayerCost>> layer_case_costs(const std::string& kind,
                                                       const std::map<std::string, int64_t>& args,
                                                       const CostOptions& options, const results::Recipe& recipe) {
  auto arg = [&](const char* k) -> int64_t {
    auto it = args.find(k);
    return it == args.end() ? 0 : it->second;
  };
  modelgen::Layer l;
  modelgen::TensorShape in, out;
  std::vector<CaseLayer> block;  // several layers: the squeeze-excitation block
  if (kind == "Conv2d") {
    modelgen::Conv2dAttrs a;
    a.in_channels = arg("cin");
    a.out_channels = arg("cout");
    const int64_t k = arg("k"), s = arg("s"), hw = arg("hw");
    a.groups = arg("g");
    if (a.in_channels <= 0 || a.out_channels <= 0 || k <= 0 || s <= 0 || hw <= 0 || a.groups <= 0) return std::nullopt;
    a.kernel = {k, k};
    a.stride = {s, s};
    a.padding = {k / 2, k / 2};  // the bench's layer cases pad to keep the size at stride 1
    a.bias = false;
    l.op = Op::kConv2d;
    l.attrs = a;
    in = {a.in_channels, hw, hw, false};
    const int64_t o = modelgen::window_output_size(hw, k, s, k / 2, 1, false);
    if (o <= 0) return std::nullopt;
    out = {a.out_channels, o, o, false};
  } else if (kind == "Linear") {
    const int64_t i = arg("in"), o = arg("out");
    if (i <= 0 || o <= 0) return std::nullopt;
    l.op = Op::kLinear;
    l.attrs = modelgen::LinearAttrs{i, o, true};
    in = {i, 1, 1, true};
    out = {o, 1, 1, true};
  } else if (kind == "BatchNorm2d") {
    const int64_t c = arg("c"), hw = arg("hw");
    if (c <= 0 || hw <= 0) return std::nullopt;
    l.op = Op::kBatchNorm2d;
    l.attrs = modelgen::BatchNorm2dAttrs{c};
    in = out = {c, hw, hw, false};
  } else if (const std::optional<Op> act = case_activation(kind)) {
    const int64_t c = arg("c"), hw = arg("hw");
    if (c <= 0 || hw <= 0) return std::nullopt;
    l = case_layer(*act, modelgen::ActivationAttrs{false});  // the bench's are not in place
    in = out = {c, hw, hw, false};
  } else if (kind == "LayerNorm2d") {
    const int64_t c = arg("c"), hw = arg("hw");
    if (c <= 0 || hw <= 0) return std::nullopt;
    l = case_layer(Op::kLayerNorm2d, modelgen::ChannelAttrs{c, 1e-6});
    in = out = {c, hw, hw, false};
  } else if (kind == "ChannelShuffle") {
    const int64_t c = arg("c"), g = arg("g"), hw = arg("hw");
    if (c <= 0 || g <= 0 || hw <= 0 || c % g != 0) return std::nullopt;
    l = case_layer(Op::kChannelShuffle, modelgen::ChannelShuffleAttrs{g});
    in = out = {c, hw, hw, false};
  } else if (kind == "SqueezeExcitation") {
    // Pool, conv c -> r, ReLU, conv r -> c (both 1x1 with bias), Hardsigmoid, times the input.
    const int64_t c = arg("c"), r = arg("r"), hw = arg("hw");
    if (c <= 0 || r <= 0 || hw <= 0) return std::nullopt;
    auto conv1x1 = [](int64_t cin, int64_t cout) {
      modelgen::Conv2dAttrs a;
      a.in_channels = cin;
      a.out_channels = cout;
      a.kernel = {1, 1};
      a.bias = true;
      return case_layer(Op::kConv2d, a);
    };
    const modelgen::TensorShape x{c, hw, hw, false}, pooled{c, 1, 1, false}, squeezed{r, 1, 1, false};
    block = {
        {case_layer(Op::kAdaptiveAvgPool2d, modelgen::AdaptivePool2dAttrs{{1, 1}}), x, pooled},
        {conv1x1(c, r), pooled, squeezed},
        {case_layer(Op::kRelu, modelgen::ActivationAttrs{false}), squeezed, squeezed},
        {conv1x1(r, c), squeezed, pooled},
        {case_layer(Op::kHardsigmoid, modelgen::ActivationAttrs{false}), pooled, pooled},
        {case_layer(Op::kMul, std::monostate{}), pooled, x},
    };
  } else {
    return std::nullopt;
  }
  if (block.empty()) block.push_back({l, in, out});
  // Every layer's input needs a gradient (the case's input does) and every layer trains.
  double param_tensors = 0, params = 0;
  std::vector<LayerCost> costs;
  for (const CaseLayer& b : block) {
    costs.push_back(cost_of(b.layer, b.in, b.out, Backward{}, param_tensors, options));
    params += case_layer_params(b.layer);
  }
  out = block.back().out;
  costs.push_back(optimizer_cost(param_tensors, params, recipe));
  // The loss out.mean(): a reduction forward, a broadcast gradient backward.
  LayerCost loss;
  loss.ops = 2;
  loss.bytes = out.numel() * kFloat * 2;
  costs.push_back(loss);
  return costs;
}

}  // namespace p4s::sim
