#include "modelgen/netspec_io.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/atomic_file.hpp"
#include "common/json_integer.hpp"

namespace p4s::modelgen {
namespace {

using nlohmann::json;

// A NetSpec nests 4 levels deep (document, layers, layer, [h, w]); deeper JSON is refused.
constexpr int kMaxJsonDepth = 64;

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string type_name(const json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number()) return "a number " + j.dump();
  if (j.is_string()) return "a string";
  if (j.is_boolean()) return "a boolean";
  if (j.is_array()) return "a list";
  if (j.is_object()) return "an object";
  return "null";
}

// Reads one JSON object's fields, refusing unknown keys and wrong types with errors that name
// the source, where the object is, and the field.
class ObjectReader {
 public:
  ObjectReader(const json& obj, const std::string& source, std::string where)
      : obj_(obj), source_(source), where_(std::move(where)) {
    if (!obj_.is_object()) fail("", "must be a JSON object, got " + type_name(obj_));
  }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    std::string w = where_;
    if (!key.empty()) w += (w.empty() ? "" : ": ") + std::string("field ") + in_quotes(key);
    throw InputError(source_, w, problem);
  }

  // Refuses keys outside `allowed`.
  void only(std::initializer_list<const char*> allowed, const std::string& what) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      const bool ok = std::any_of(allowed.begin(), allowed.end(),
                                  [&](const char* k) { return it.key() == k; });
      if (!ok) fail(it.key(), "unknown " + what);
    }
  }

  bool has(const char* key) const { return obj_.contains(key); }

  const json& get(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end()) fail(key, "is missing");
    return *it;
  }

  int64_t integer(const char* key) const {
    const json& v = get(key);
    if (!v.is_number_integer()) fail(key, "must be an integer, got " + type_name(v));
    const std::optional<int64_t> i = json_integer<int64_t>(v);
    if (!i) fail(key, "is too large");
    return *i;
  }
  int64_t integer(const char* key, int64_t fallback) const {
    return has(key) ? integer(key) : fallback;
  }

  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_boolean()) fail(key, "must be true or false, got " + type_name(v));
    return v.get<bool>();
  }

  double number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_number()) fail(key, "must be a number, got " + type_name(v));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(key, "must be finite");
    return d;
  }

  std::string string(const char* key) const {
    const json& v = get(key);
    if (!v.is_string()) fail(key, "must be a string, got " + type_name(v));
    return v.get<std::string>();
  }

  // [h, w]; a single integer n means [n, n], as in PyTorch.
  Hw pair(const char* key) const {
    const json& v = get(key);
    auto elem = [&](const json& e) {
      if (!e.is_number_integer()) fail(key, "must be [h, w] of integers, got " + v.dump());
      const std::optional<int64_t> i = json_integer<int64_t>(e);
      if (!i) fail(key, "is too large");
      return *i;
    };
    if (v.is_number_integer()) {
      const int64_t n = elem(v);
      return Hw{n, n};
    }
    if (!v.is_array() || v.size() != 2) fail(key, "must be [h, w] of integers, got " + v.dump());
    return Hw{elem(v[0]), elem(v[1])};
  }
  Hw pair(const char* key, Hw fallback) const { return has(key) ? pair(key) : fallback; }

 private:
  const json& obj_;
  const std::string& source_;
  std::string where_;
};

// The minor version a file declares: "netspec": 1 is v1 (minor 0), "netspec": "1.1" is 1.1.
int parse_version(const ObjectReader& top) {
  if (!top.has("netspec")) top.fail("netspec", "is missing: not a NetSpec file");
  const json& v = top.get("netspec");
  const std::string newest = std::to_string(kNetSpecVersion) + "." + std::to_string(kNetSpecMinorVersion);
  if (v.is_number_integer()) {
    const int64_t major = top.integer("netspec");
    if (major == kNetSpecVersion) return 0;
    if (major > kNetSpecVersion)
      top.fail("netspec", "format version " + std::to_string(major) +
                              " is newer than this reader understands (" + newest + ")");
    top.fail("netspec", "unknown format version " + std::to_string(major));
  }
  if (!v.is_string())
    top.fail("netspec", "must be 1 or \"" + newest + "\", got " + type_name(v));
  const std::string text = v.get<std::string>();
  const size_t dot = text.find('.');
  auto number = [&](const std::string& part) -> int64_t {
    if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos)
      top.fail("netspec", "\"" + text + "\" is not a version (\"" + newest + "\")");
    return std::stoll(part);
  };
  const int64_t major = number(text.substr(0, dot));
  const int64_t minor = dot == std::string::npos ? 0 : number(text.substr(dot + 1));
  if (major > kNetSpecVersion || (major == kNetSpecVersion && minor > kNetSpecMinorVersion))
    top.fail("netspec", "format version " + text + " is newer than this reader understands (" + newest + ")");
  if (major != kNetSpecVersion) top.fail("netspec", "unknown format version " + text);
  return static_cast<int>(minor);
}

Layer parse_layer(const json& j, size_t position, const std::string& source, int minor) {
  Layer layer;
  std::string where = "layer #" + std::to_string(position);
  {
    // The name first, so that later errors can name the layer.
    const ObjectReader pre(j, source, where);
    layer.name = pre.string("name");
    if (!layer.name.empty()) where = "layer " + in_quotes(layer.name);
  }
  const ObjectReader r(j, source, where);
  const std::string op = r.string("op");
  const std::optional<Op> parsed = op_from_name(op);
  if (!parsed) r.fail("op", "unknown op " + in_quotes(op));
  if (op_minor_version(*parsed) > minor)
    r.fail("op", "op " + in_quotes(op) + " is NetSpec 1." + std::to_string(op_minor_version(*parsed)) +
                     ": the file must say \"netspec\": \"1." + std::to_string(op_minor_version(*parsed)) + "\"");
  layer.op = *parsed;

  const json& inputs = r.get("inputs");
  if (!inputs.is_array()) r.fail("inputs", "must be a list of layer names, got " + type_name(inputs));
  for (const json& in : inputs) {
    if (!in.is_string()) r.fail("inputs", "must be a list of layer names, got " + inputs.dump());
    layer.inputs.push_back(in.get<std::string>());
  }

  switch (layer.op) {
    case Op::kConv2d: {
      r.only({"name", "op", "inputs", "in_channels", "out_channels", "kernel", "stride", "padding",
              "dilation", "groups", "bias"},
             "attribute of conv2d");
      Conv2dAttrs a;
      a.in_channels = r.integer("in_channels");
      a.out_channels = r.integer("out_channels");
      a.kernel = r.pair("kernel");
      a.stride = r.pair("stride", Hw{1, 1});
      a.padding = r.pair("padding", Hw{0, 0});
      a.dilation = r.pair("dilation", Hw{1, 1});
      a.groups = r.integer("groups", 1);
      a.bias = r.boolean("bias", true);
      layer.attrs = a;
      break;
    }
    case Op::kBatchNorm2d:
      r.only({"name", "op", "inputs", "features"}, "attribute of batchnorm2d");
      layer.attrs = BatchNorm2dAttrs{r.integer("features")};
      break;
    case Op::kLinear:
      r.only({"name", "op", "inputs", "in_features", "out_features", "bias"}, "attribute of linear");
      layer.attrs = LinearAttrs{r.integer("in_features"), r.integer("out_features"), r.boolean("bias", true)};
      break;
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid:
      r.only({"name", "op", "inputs", "inplace"}, "attribute of " + op);
      layer.attrs = ActivationAttrs{r.boolean("inplace", false)};
      break;
    case Op::kSigmoid:
    case Op::kGelu:
      // PyTorch has no in-place form of these modules.
      r.only({"name", "op", "inputs"}, "attribute of " + op);
      layer.attrs = ActivationAttrs{};
      break;
    case Op::kScale:
      r.only({"name", "op", "inputs", "channels"}, "attribute of scale");
      layer.attrs = ChannelAttrs{r.integer("channels"), ChannelAttrs{}.eps};
      break;
    case Op::kLayerNorm2d:
      r.only({"name", "op", "inputs", "channels", "eps"}, "attribute of layernorm2d");
      layer.attrs = ChannelAttrs{r.integer("channels"), r.number("eps", ChannelAttrs{}.eps)};
      break;
    case Op::kChannelShuffle:
      r.only({"name", "op", "inputs", "groups"}, "attribute of channel_shuffle");
      layer.attrs = ChannelShuffleAttrs{r.integer("groups")};
      break;
    case Op::kSlice:
      r.only({"name", "op", "inputs", "start", "end"}, "attribute of slice");
      layer.attrs = SliceAttrs{r.integer("start"), r.integer("end")};
      break;
    case Op::kDropPath:
      r.only({"name", "op", "inputs", "p"}, "attribute of drop_path");
      layer.attrs = DropoutAttrs{r.number("p", 0.0)};
      break;
    case Op::kMaxPool2d:
    case Op::kAvgPool2d: {
      r.only({"name", "op", "inputs", "kernel", "stride", "padding", "ceil_mode"}, "attribute of " + op);
      Pool2dAttrs a;
      a.kernel = r.pair("kernel");
      a.stride = r.pair("stride", a.kernel);
      a.padding = r.pair("padding", Hw{0, 0});
      a.ceil_mode = r.boolean("ceil_mode", false);
      layer.attrs = a;
      break;
    }
    case Op::kAdaptiveAvgPool2d:
      r.only({"name", "op", "inputs", "output_size"}, "attribute of adaptive_avgpool2d");
      layer.attrs = AdaptivePool2dAttrs{r.pair("output_size")};
      break;
    case Op::kDropout:
      r.only({"name", "op", "inputs", "p"}, "attribute of dropout");
      layer.attrs = DropoutAttrs{r.number("p", 0.5)};
      break;
    case Op::kAdd:
    case Op::kConcat:
    case Op::kFlatten:
    case Op::kMul:
    case Op::kIdentity:
      r.only({"name", "op", "inputs"}, "attribute of " + op);
      layer.attrs = std::monostate{};
      break;
  }
  return layer;
}

// "line L, column C" of a byte offset, for JSON syntax errors.
std::string text_position(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

nlohmann::ordered_json pair_json(const Hw& v) { return {v.h, v.w}; }

nlohmann::ordered_json layer_json(const Layer& l) {
  nlohmann::ordered_json j;
  j["name"] = l.name;
  j["op"] = std::string(op_name(l.op));
  j["inputs"] = l.inputs;
  switch (l.op) {
    case Op::kConv2d: {
      const Conv2dAttrs& a = l.conv();
      j["in_channels"] = a.in_channels;
      j["out_channels"] = a.out_channels;
      j["kernel"] = pair_json(a.kernel);
      j["stride"] = pair_json(a.stride);
      j["padding"] = pair_json(a.padding);
      j["dilation"] = pair_json(a.dilation);
      j["groups"] = a.groups;
      j["bias"] = a.bias;
      break;
    }
    case Op::kBatchNorm2d: j["features"] = l.batchnorm().features; break;
    case Op::kLinear:
      j["in_features"] = l.linear().in_features;
      j["out_features"] = l.linear().out_features;
      j["bias"] = l.linear().bias;
      break;
    case Op::kRelu:
    case Op::kRelu6:
    case Op::kSilu:
    case Op::kHardswish:
    case Op::kHardsigmoid: j["inplace"] = l.activation().inplace; break;
    case Op::kScale:
      j["channels"] = l.channel().channels;
      // Not scale's attribute: written only where a spec holds one, so that reading refuses it.
      if (l.channel().eps != ChannelAttrs{}.eps) j["eps"] = l.channel().eps;
      break;
    case Op::kLayerNorm2d:
      j["channels"] = l.channel().channels;
      j["eps"] = l.channel().eps;
      break;
    case Op::kChannelShuffle: j["groups"] = l.shuffle().groups; break;
    case Op::kSlice:
      j["start"] = l.slice().start;
      j["end"] = l.slice().end;
      break;
    case Op::kDropPath: j["p"] = l.dropout().p; break;
    case Op::kMaxPool2d:
    case Op::kAvgPool2d:
      j["kernel"] = pair_json(l.pool().kernel);
      j["stride"] = pair_json(l.pool().stride);
      j["padding"] = pair_json(l.pool().padding);
      j["ceil_mode"] = l.pool().ceil_mode;
      break;
    case Op::kAdaptiveAvgPool2d: j["output_size"] = pair_json(l.adaptive_pool().output_size); break;
    case Op::kDropout: j["p"] = l.dropout().p; break;
    case Op::kSigmoid:
    case Op::kGelu:
      // No in-place form: written only where a spec asks for one, so that reading refuses it.
      if (l.activation().inplace) j["inplace"] = true;
      break;
    case Op::kAdd:
    case Op::kConcat:
    case Op::kFlatten:
    case Op::kMul:
    case Op::kIdentity: break;
  }
  return j;
}

}  // namespace

NetSpec parse_netspec(const std::string& json_text, const std::string& source) {
  json doc;
  try {
    // The nesting bound keeps recursive code (dump, comparison) away from absurd depths.
    doc = json::parse(json_text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth)
        throw InputError(source, "", "not a NetSpec: JSON nested deeper than " +
                                           std::to_string(kMaxJsonDepth) + " levels");
      return true;
    });
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, ...: detail".
    const size_t colon = what.rfind(": ");
    const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    throw InputError(source, "", "not valid JSON at " + text_position(json_text, e.byte) + ": " + detail);
  } catch (const json::exception& e) {
    // Failures without a position, e.g. a number beyond the range of double (out_of_range.406).
    const std::string what = e.what();
    const size_t bracket = what.find("] ");
    throw InputError(source, "", "not valid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  const ObjectReader top(doc, source, "");
  const int minor = parse_version(top);
  top.only({"netspec", "name", "input", "classes", "layers", "output"}, "field");

  NetSpec spec;
  spec.name = top.string("name");
  const ObjectReader input(top.get("input"), source, "field \"input\"");
  input.only({"channels", "height", "width"}, "field");
  spec.input.channels = input.integer("channels");
  spec.input.height = input.integer("height");
  spec.input.width = input.integer("width");
  spec.classes = top.integer("classes");
  const json& layers = top.get("layers");
  if (!layers.is_array()) top.fail("layers", "must be a list, got " + type_name(layers));
  spec.layers.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) spec.layers.push_back(parse_layer(layers[i], i, source, minor));
  spec.output = top.string("output");
  infer_shapes(spec, source);
  return spec;
}

NetSpec read_netspec(const std::string& path) {
  std::string text;
  try {
    text = p4s::read_file(path);
  } catch (const std::runtime_error& e) {
    // read_file's message already starts with the path.
    const std::string what = e.what();
    throw InputError(path, "", what.substr(std::min(what.size(), path.size() + 2)));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InputError(path, "", "the file is empty");
  return parse_netspec(text, path);
}

std::string netspec_to_json(const NetSpec& spec) {
  // ordered_json keeps the reading order of a hand-written file: header, layers, output.
  nlohmann::ordered_json j;
  // A file is v1 unless it uses an op of a later minor version.
  if (const int minor = spec.minor_version(); minor == 0)
    j["netspec"] = kNetSpecVersion;
  else
    j["netspec"] = std::to_string(kNetSpecVersion) + "." + std::to_string(minor);
  j["name"] = spec.name;
  j["input"] = {{"channels", spec.input.channels},
                {"height", spec.input.height},
                {"width", spec.input.width}};
  j["classes"] = spec.classes;
  j["layers"] = nlohmann::ordered_json::array();
  for (const Layer& l : spec.layers) j["layers"].push_back(layer_json(l));
  j["output"] = spec.output;
  return j.dump(1) + "\n";
}

void write_netspec(const NetSpec& spec, const std::string& path) {
  p4s::write_file_atomically(path, netspec_to_json(spec));
}

}  // namespace p4s::modelgen
