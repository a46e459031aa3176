#include "modelgen/shapes.hpp"

#include <string>
#include <unordered_map>

#include "common/input_error.hpp"

namespace p4s::modelgen {
namespace {

// Every size attribute and every per-sample tensor stays below these, so that products at any
// realistic batch size fit in int64 without overflow checks downstream.
constexpr int64_t kMaxSize = int64_t{1} << 24;
constexpr int64_t kMaxNumel = int64_t{1} << 40;

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

class Checker {
 public:
  Checker(const std::string& source, const Layer& layer)
      : source_(source), where_("layer " + in_quotes(layer.name)) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw InputError(source_, where_, problem);
  }
  void positive(const char* what, int64_t v) const {
    if (v <= 0) fail(std::string(what) + " must be positive, got " + std::to_string(v));
    if (v > kMaxSize) fail(std::string(what) + " " + std::to_string(v) + " is too large");
  }
  void non_negative(const char* what, int64_t v) const {
    if (v < 0) fail(std::string(what) + " must not be negative, got " + std::to_string(v));
    if (v > kMaxSize) fail(std::string(what) + " " + std::to_string(v) + " is too large");
  }
  void positive(const char* what, const Hw& v) const {
    positive(what, v.h);
    positive(what, v.w);
  }
  void non_negative(const char* what, const Hw& v) const {
    non_negative(what, v.h);
    non_negative(what, v.w);
  }
  int64_t mul(int64_t a, int64_t b) const {
    int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r) || r > kMaxNumel) fail("sizes are too large");
    return r;
  }
  void spatial_input(const TensorShape& in) const {
    if (in.flat) fail("needs an input with channels, height and width, got flat " + in.str());
  }

 private:
  const std::string& source_;
  std::string where_;
};

std::string hw_str(const Hw& v) { return "[" + std::to_string(v.h) + ", " + std::to_string(v.w) + "]"; }

TensorShape window_output(const Checker& c, const TensorShape& in, const Hw& kernel,
                          const Hw& stride, const Hw& padding, const Hw& dilation, bool ceil_mode) {
  TensorShape out = in;
  out.height = window_output_size(in.height, kernel.h, stride.h, padding.h, dilation.h, ceil_mode);
  out.width = window_output_size(in.width, kernel.w, stride.w, padding.w, dilation.w, ceil_mode);
  if (out.height <= 0 || out.width <= 0)
    c.fail("window " + hw_str(kernel) + " does not fit the input " + in.str() +
           " (output would be " + std::to_string(out.height) + "x" + std::to_string(out.width) +
           ")");
  return out;
}

LayerShape infer_layer(const Checker& c, const Layer& layer, const std::vector<TensorShape>& ins) {
  LayerShape s;
  const TensorShape& in = ins.front();
  switch (layer.op) {
    case Op::kConv2d: {
      const Conv2dAttrs& a = layer.conv();
      c.spatial_input(in);
      c.positive("in_channels", a.in_channels);
      c.positive("out_channels", a.out_channels);
      c.positive("kernel", a.kernel);
      c.positive("stride", a.stride);
      c.non_negative("padding", a.padding);
      c.positive("dilation", a.dilation);
      c.positive("groups", a.groups);
      if (a.in_channels != in.channels)
        c.fail("in_channels " + std::to_string(a.in_channels) + " does not match its input's " +
               std::to_string(in.channels) + " channels");
      if (a.in_channels % a.groups != 0 || a.out_channels % a.groups != 0)
        c.fail("groups " + std::to_string(a.groups) + " does not divide in_channels " +
               std::to_string(a.in_channels) + " and out_channels " +
               std::to_string(a.out_channels));
      s.out = window_output(c, in, a.kernel, a.stride, a.padding, a.dilation, false);
      s.out.channels = a.out_channels;
      const int64_t per_out = c.mul(c.mul(a.in_channels / a.groups, a.kernel.h), a.kernel.w);
      s.params = c.mul(a.out_channels, per_out) + (a.bias ? a.out_channels : 0);
      s.forward_macs = c.mul(c.mul(s.out.height * s.out.width, a.out_channels), per_out);
      break;
    }
    case Op::kBatchNorm2d: {
      const int64_t f = layer.batchnorm().features;
      c.spatial_input(in);
      c.positive("features", f);
      if (f != in.channels)
        c.fail("features " + std::to_string(f) + " does not match its input's " +
               std::to_string(in.channels) + " channels");
      s.out = in;
      s.params = 2 * f;
      s.buffers = 2 * f;
      break;
    }
    case Op::kLinear: {
      const LinearAttrs& a = layer.linear();
      c.positive("in_features", a.in_features);
      c.positive("out_features", a.out_features);
      if (!in.flat) c.fail("needs a flat input (add a flatten layer), got " + in.str());
      if (a.in_features != in.channels)
        c.fail("in_features " + std::to_string(a.in_features) + " does not match its input's " +
               std::to_string(in.channels) + " features");
      s.out = TensorShape{a.out_features, 1, 1, true};
      s.params = c.mul(a.in_features, a.out_features) + (a.bias ? a.out_features : 0);
      s.forward_macs = c.mul(a.in_features, a.out_features);
      break;
    }
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid:
    case Op::kSigmoid:
    case Op::kGelu:
    case Op::kIdentity:
      if (is_activation(layer.op) && layer.activation().inplace && !has_inplace_form(layer.op))
        c.fail("op " + std::string(op_name(layer.op)) + " has no in-place form");
      s.out = in;
      break;
    case Op::kDropout:
    case Op::kDropPath: {
      const double p = layer.dropout().p;
      if (!(p >= 0.0 && p <= 1.0)) c.fail("p must be within [0, 1], got " + std::to_string(p));
      s.out = in;
      break;
    }
    case Op::kMul: {
      if (ins.size() != 2) c.fail("mul takes two inputs, got " + std::to_string(ins.size()));
      // Same shapes, or a per-channel [C, 1, 1] factor broadcast over [C, H, W]
      // (squeeze-excitation's scale), either way round.
      const TensorShape& a = ins[0];
      const TensorShape& b = ins[1];
      auto per_channel_of = [](const TensorShape& f, const TensorShape& x) {
        return !f.flat && !x.flat && f.height == 1 && f.width == 1 && f.channels == x.channels;
      };
      if (a == b || per_channel_of(b, a)) {
        s.out = a;
      } else if (per_channel_of(a, b)) {
        s.out = b;
      } else {
        c.fail("mul needs inputs of one shape or a [C, 1, 1] factor of a [C, H, W] input, got " +
               a.str() + " and " + b.str());
      }
      break;
    }
    case Op::kScale:
    case Op::kLayerNorm2d: {
      const ChannelAttrs& a = layer.channel();
      c.spatial_input(in);
      c.positive("channels", a.channels);
      if (a.channels != in.channels)
        c.fail("channels " + std::to_string(a.channels) + " does not match its input's " +
               std::to_string(in.channels) + " channels");
      if (layer.op == Op::kLayerNorm2d && !(a.eps > 0.0))
        c.fail("eps must be positive, got " + std::to_string(a.eps));
      s.out = in;
      s.params = layer.op == Op::kScale ? a.channels : 2 * a.channels;
      break;
    }
    case Op::kChannelShuffle: {
      const int64_t g = layer.shuffle().groups;
      c.spatial_input(in);
      c.positive("groups", g);
      if (in.channels % g != 0)
        c.fail("groups " + std::to_string(g) + " does not divide its input's " +
               std::to_string(in.channels) + " channels");
      s.out = in;
      break;
    }
    case Op::kSlice: {
      const SliceAttrs& a = layer.slice();
      c.spatial_input(in);
      c.non_negative("start", a.start);
      c.positive("end", a.end);
      if (a.start >= a.end || a.end > in.channels)
        c.fail("channels [" + std::to_string(a.start) + ", " + std::to_string(a.end) +
               ") are not a non-empty range of its input's " + std::to_string(in.channels) +
               " channels");
      s.out = in;
      s.out.channels = a.end - a.start;
      break;
    }
    case Op::kMaxPool2d:
    case Op::kAvgPool2d: {
      const Pool2dAttrs& a = layer.pool();
      c.spatial_input(in);
      c.positive("kernel", a.kernel);
      c.positive("stride", a.stride);
      c.non_negative("padding", a.padding);
      // PyTorch refuses padding beyond half the window.
      if (2 * a.padding.h > a.kernel.h || 2 * a.padding.w > a.kernel.w)
        c.fail("padding " + hw_str(a.padding) + " is more than half the kernel " +
               hw_str(a.kernel));
      s.out = window_output(c, in, a.kernel, a.stride, a.padding, Hw{1, 1}, a.ceil_mode);
      break;
    }
    case Op::kAdaptiveAvgPool2d: {
      const Hw& o = layer.adaptive_pool().output_size;
      c.spatial_input(in);
      c.positive("output_size", o);
      s.out = TensorShape{in.channels, o.h, o.w, false};
      c.mul(c.mul(in.channels, o.h), o.w);
      break;
    }
    case Op::kAdd:
      if (ins.size() != 2)
        c.fail("add takes two inputs, got " + std::to_string(ins.size()));
      if (ins[0] != ins[1])
        c.fail("add needs inputs of one shape, got " + ins[0].str() + " and " + ins[1].str());
      s.out = in;
      break;
    case Op::kConcat: {
      if (ins.size() < 2)
        c.fail("concat takes two or more inputs, got " + std::to_string(ins.size()));
      s.out = in;
      s.out.channels = 0;
      for (const TensorShape& t : ins) {
        if (t.flat != in.flat || t.height != in.height || t.width != in.width)
          c.fail("concat needs inputs that differ only in channels, got " + in.str() + " and " +
                 t.str());
        s.out.channels += t.channels;
      }
      c.mul(s.out.numel(), 1);
      break;
    }
    case Op::kFlatten:
      s.out = TensorShape{in.numel(), 1, 1, true};
      break;
  }
  if (layer.op != Op::kAdd && layer.op != Op::kConcat && layer.op != Op::kMul && ins.size() != 1)
    c.fail(std::string(op_name(layer.op)) + " takes one input, got " + std::to_string(ins.size()));
  return s;
}

}  // namespace

// Names in a file may hold control characters (JSON escapes them); printable() keeps the
// message on one line.
std::string TensorShape::str() const {
  if (flat) return "[" + std::to_string(channels) + "]";
  return "[" + std::to_string(channels) + ", " + std::to_string(height) + ", " +
         std::to_string(width) + "]";
}

int64_t window_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * padding - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: in ceil mode the last window must start inside the input or its left padding.
  if (ceil_mode && (out - 1) * stride >= in + padding) --out;
  return out;
}

int64_t ShapedNet::training_flops(int64_t batch) const {
  int64_t macs = 0;
  for (const LayerShape& l : layers) {
    if (l.forward_macs == 0) continue;
    bool input_needs_grad = false;
    for (int p : l.inputs) input_needs_grad |= p >= 0 && layers[static_cast<size_t>(p)].requires_grad;
    macs += l.forward_macs * (input_needs_grad ? 3 : 2);
  }
  return 2 * macs * batch;
}

ShapedNet infer_shapes(const NetSpec& spec, const std::string& source) {
  auto fail_field = [&](const std::string& field, const std::string& problem) {
    throw InputError(source, "field " + in_quotes(field), problem);
  };
  auto check_size = [&](const std::string& field, int64_t v) {
    if (v <= 0) fail_field(field, "must be positive, got " + std::to_string(v));
    if (v > kMaxSize) fail_field(field, std::to_string(v) + " is too large");
  };
  if (spec.name.empty()) fail_field("name", "must not be empty");
  check_size("input.channels", spec.input.channels);
  check_size("input.height", spec.input.height);
  check_size("input.width", spec.input.width);
  check_size("classes", spec.classes);
  if (spec.layers.empty()) fail_field("layers", "must list at least one layer");

  ShapedNet net;
  net.input = TensorShape{spec.input.channels, spec.input.height, spec.input.width, false};
  if (net.input.numel() > kMaxNumel) fail_field("input", "sizes are too large");
  net.layers.reserve(spec.layers.size());
  std::unordered_map<std::string, int> index;
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    const Layer& layer = spec.layers[i];
    const Checker c(source, layer);
    if (layer.name.empty()) throw InputError(source, "layer #" + std::to_string(i), "has no name");
    if (layer.name == kInputName) c.fail("the name \"input\" is reserved for the network's input");
    if (index.count(layer.name)) c.fail("duplicate layer name");
    if (layer.attrs.index() != default_attrs(layer.op).index())
      c.fail("attributes do not belong to op " + std::string(op_name(layer.op)));
    if (layer.inputs.empty()) c.fail("has no inputs");
    std::vector<int> producers;
    std::vector<TensorShape> in_shapes;
    bool needs_grad = false;
    for (const std::string& in : layer.inputs) {
      int p = -1;
      if (in != kInputName) {
        auto it = index.find(in);
        if (it == index.end())
          c.fail("input " + in_quotes(in) + " names no earlier layer" +
                 (spec.find_layer(in) >= 0 ? " (layers must be in topological order)" : ""));
        p = it->second;
        needs_grad |= net.layers[static_cast<size_t>(p)].requires_grad;
      }
      producers.push_back(p);
      in_shapes.push_back(net.shape_of(p));
    }
    LayerShape s = infer_layer(c, layer, in_shapes);
    s.inputs = std::move(producers);
    s.requires_grad = needs_grad || s.params > 0;
    net.params += s.params;
    net.buffers += s.buffers;
    net.forward_macs += s.forward_macs;
    net.layers.push_back(std::move(s));
    index.emplace(layer.name, static_cast<int>(i));
  }

  auto out = index.find(spec.output);
  if (spec.output.empty()) fail_field("output", "must name the output layer");
  if (out == index.end()) fail_field("output", in_quotes(spec.output) + " names no layer");
  net.output = out->second;
  const TensorShape& o = net.layers[static_cast<size_t>(net.output)].out;
  if (!o.flat || o.channels != spec.classes)
    fail_field("output", "layer " + in_quotes(spec.output) + " gives " + o.str() + ", but the loss needs [" +
                             std::to_string(spec.classes) + "] (classes)");
  return net;
}

}  // namespace p4s::modelgen
