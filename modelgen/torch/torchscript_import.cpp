#include "modelgen/torch/torchscript_import.hpp"

#include <ATen/core/function.h>
#include <ATen/ops/randn.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/nn/modules/container/any.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/serialization/import.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "modelgen/shapes.hpp"

namespace p4s::modelgen_torch {
namespace {

// The p of stochastic depth from the survival rate 1 - p it draws with. 1 - s does not give p
// back exactly (1 - (1 - 0.2) is 0.19999999999999996): the shortest decimal whose survival
// rate is s, which is p itself for the p people write; any other p is off by an ulp or so.
double drop_probability(double survival) {
  for (int digits = 1; digits <= 17; ++digits) {
    const double scale = std::pow(10.0, digits);
    const double p = std::round((1.0 - survival) * scale) / scale;
    if (1.0 - p == survival) return p;
  }
  return 1.0 - survival;
}


using c10::IValue;
using modelgen::Hw;
using modelgen::Layer;
using modelgen::LayerAttrs;
using modelgen::Op;
using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

constexpr int kMaxCallDepth = 256;
constexpr int64_t kMaxLoopTrips = int64_t{1} << 20;

// The first line of a LibTorch error, without its C++ backtrace.
std::string first_line(const std::string& what) { return what.substr(0, what.find('\n')); }

std::string kind_of(const Node* n) { return n->kind().toQualString(); }

// Where a node is: its source location when the file has one, else the node itself; and the
// module it runs in.
std::string location(const Node* n, const std::string& module_path) {
  std::string where;
  if (const auto flc = n->sourceRange().file_line_col()) {
    const auto& [file, line, col] = *flc;
    if (!file.empty() && line > 0) where = " at " + file + ":" + std::to_string(line) + ":" + std::to_string(col);
  }
  if (where.empty()) {
    where = " at node ";
    if (n->outputs().empty())
      where += "without outputs";
    else
      where += "%" + n->output(0)->debugName();
  }
  if (!module_path.empty()) where += " in module " + module_path;
  return where;
}

// How an activation's dimensions stand, for the op sequences that NetSpec says as one layer
// (ConvNeXt's channels-last stretch between two permutes; ShuffleNet's view, transpose, view).
enum class Layout {
  kNchw,      // [N, C, H, W] or flat [N, F]: what NetSpec's layers give
  kNhwc,      // [N, H, W, C]: permute(0, 2, 3, 1) of a kNchw activation
  kGrouped,   // [N, g, C/g, H, W]: a channel shuffle's first view
  kShuffled,  // [N, C/g, g, H, W]: a kGrouped one with its two channel dimensions swapped
};

// What the walk knows of a tensor of the network's activations.
struct Activation {
  int layer = -1;         // the layer that made it; -1: the network's input
  bool poisoned = false;  // made by (or from) an op outside NetSpec
  Layout layout = Layout::kNchw;
  int64_t groups = 0;  // g of kGrouped and kShuffled
};

// Why an op cannot take an activation laid out as `layout`.
std::string layout_problem(Layout layout) {
  if (layout == Layout::kNhwc)
    return "an op on a channels-last (permuted) activation, where NetSpec says layer norm, linear, activations, "
           "dropout and scale";
  return "an op on a channel-grouped 5-d view other than a channel shuffle's transpose(1, 2) and view back";
}

// The integers of an int list or of a tuple of ints (TorchScript keeps a module's tuple
// attributes, e.g. LayerNorm's normalized_shape, as tuples).
std::optional<std::vector<int64_t>> ints_of(const IValue& v) {
  if (v.isIntList()) return v.toIntVector();
  if (!v.isTuple()) return std::nullopt;
  std::vector<int64_t> out;
  for (const IValue& e : v.toTupleRef().elements()) {
    if (!e.isInt()) return std::nullopt;
    out.push_back(e.toInt());
  }
  return out;
}

// A layer of the imported network and the real tensor it gave, for the final check.
struct ImportedLayer {
  Layer layer;
  std::optional<std::vector<int64_t>> real_sizes;  // absent for layers without a tensor of their own
};

// An op on activations that NetSpec cannot say; `reason` adds why, when the op itself is
// known (e.g. a batch norm without affine parameters).
struct Unsupported {
  std::string reason;
};

// Why an op cannot be mapped, as the mappers return it.
std::optional<Unsupported> unsupported(std::string why) { return Unsupported{std::move(why)}; }

struct Frame {
  std::string module_path;  // "" in the root module
  bool leaf = false;        // the module has no submodules
  std::unordered_map<const Value*, IValue> env;
};

bool is_module_object(const IValue& v) { return v.isObject() && v.toObjectRef().type()->is_module(); }

bool has_submodules(const c10::ivalue::Object& obj) {
  const auto& type = obj.type();
  for (size_t i = 0; i < type->numAttributes(); ++i)
    if (const auto cls = type->getAttribute(i)->cast<c10::ClassType>(); cls && cls->is_module()) return true;
  return false;
}

// (h, w) from an int list of one or two elements (PyTorch expands one).
std::optional<Hw> pair_of(const IValue& v) {
  if (v.isInt()) return Hw{v.toInt(), v.toInt()};
  if (!v.isIntList()) return std::nullopt;
  const std::vector<int64_t> l = v.toIntVector();
  if (l.size() == 1) return Hw{l[0], l[0]};
  if (l.size() == 2) return Hw{l[0], l[1]};
  return std::nullopt;
}

std::string sizes_str(c10::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// Sizes of a batch as the user reads them: [N, 4, 6, 6] where the batch dimension is the
// import's batch.
std::string batch_sizes_str(c10::IntArrayRef s) {
  if (s.empty() || s[0] != kImportBatch) return sizes_str(s);
  std::string out = "[N";
  for (size_t i = 1; i < s.size(); ++i) out += ", " + std::to_string(s[i]);
  return out + "]";
}

// Op kinds that only inspect activations: their outputs are not activations.
const std::set<std::string_view>& metadata_ops() {
  static const std::set<std::string_view> ops = {
      "aten::size", "aten::dim", "aten::numel", "aten::len", "prim::shape", "prim::device", "prim::dtype",
      "prim::layout", "prim::is_cuda", "prim::requires_grad", "aten::is_floating_point", "aten::__is__",
      "aten::__isnot__", "aten::__contains__"};
  return ops;
}

// Op kinds that move activations without computing: containers and casts. Their outputs are
// the same tensors.
const std::set<std::string_view>& structural_ops() {
  static const std::set<std::string_view> ops = {
      "prim::ListConstruct", "prim::TupleConstruct", "prim::TupleUnpack", "prim::ListUnpack", "prim::TupleIndex",
      "aten::__getitem__",   "prim::unchecked_cast", "aten::append",      "prim::DictConstruct", "aten::contiguous"};
  return ops;
}

class Importer {
 public:
  Importer(std::string source, const ImportOptions& options) : source_(std::move(source)), options_(options) {}

  modelgen::NetSpec run(torch::jit::Module module, const std::string& name) {
    module.train(true);
    const auto& input = options_.input;
    if (input.channels <= 0 || input.height <= 0 || input.width <= 0)
      fail("the input size must be positive, got " + input_text());
    torch::jit::Function* forward = module.type()->findMethod("forward");
    if (!forward) fail("the module has no forward method");
    const std::shared_ptr<Graph> graph = torch::jit::toGraphFunction(*forward).graph();
    if (graph->inputs().size() != 2)
      fail("forward takes " + std::to_string(graph->inputs().size() - 1) +
           " arguments; a NetSpec network takes one batch of images");

    c10::NoGradGuard no_grad;
    const at::Tensor x = at::randn({kImportBatch, input.channels, input.height, input.width});
    keep(x, Activation{-1, false});
    object_paths_[module._ivalue().get()] = "";
    const std::vector<IValue> outs = call(*graph, {module._ivalue(), x}, "", !has_submodules(*module._ivalue()), 0);
    return conclude(outs, name);
  }

  // A traced graph whose inputs are the batch `x` and then `tensors` (the module's parameters
  // and buffers, by their paths: "layer1.conv1.weight").
  modelgen::NetSpec run_traced(const Graph& graph, const at::Tensor& x,
                               const std::vector<std::pair<std::string, at::Tensor>>& tensors, const std::string& name) {
    c10::NoGradGuard no_grad;
    keep(x, Activation{-1, false});
    std::vector<IValue> args{x};
    for (const auto& [path, t] : tensors) {
      param_paths_.emplace(t.unsafeGetTensorImpl(), path);
      alive_.push_back(t);
      args.emplace_back(t);
    }
    return conclude(call(graph, args, "", false, 0), name);
  }

 private:
  modelgen::NetSpec conclude(const std::vector<IValue>& outs, const std::string& name) {
    if (!unsupported_.empty()) {
      std::string msg = std::to_string(unsupported_.size()) +
                        (unsupported_.size() == 1 ? " op is" : " ops are") + " outside NetSpec " +
                        std::to_string(modelgen::kNetSpecVersion) + "." +
                        std::to_string(modelgen::kNetSpecMinorVersion) + ": ";
      for (size_t i = 0; i < unsupported_.size(); ++i) msg += (i ? "; " : "") + unsupported_[i];
      fail(msg);
    }
    return finish(output_of(outs), name);
  }

  [[noreturn]] void fail(const std::string& problem) const { throw InputError(source_ + ": " + problem); }

  std::string input_text() const {
    return std::to_string(options_.input.channels) + "x" + std::to_string(options_.input.height) + "x" +
           std::to_string(options_.input.width);
  }

  // ---- activations ----

  void keep(const at::Tensor& t, Activation a) {
    acts_[t.unsafeGetTensorImpl()] = a;
    alive_.push_back(t);  // keeps the impl alive, so that its address is never reused
  }
  const Activation* act_of(const IValue& v) const {
    if (!v.isTensor()) return nullptr;
    const at::Tensor& t = v.toTensor();
    if (!t.defined()) return nullptr;
    const auto it = acts_.find(t.unsafeGetTensorImpl());
    return it == acts_.end() ? nullptr : &it->second;
  }
  // Every activation inside v (tensors, lists and tuples of them).
  void collect(const IValue& v, std::vector<const Activation*>& out) const {
    if (const Activation* a = act_of(v)) {
      out.push_back(a);
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorVector()) collect(IValue(t), out);
    } else if (v.isList()) {
      for (const IValue& e : v.toListRef()) collect(e, out);
    } else if (v.isTuple()) {
      for (const IValue& e : v.toTupleRef().elements()) collect(e, out);
    }
  }
  // Marks every tensor inside v as `a`: only those that are not activations yet, or, with
  // `overwrite`, all of them (an op outside NetSpec that changed its input in place).
  void mark(const IValue& v, Activation a, bool overwrite = false) {
    if (v.isTensor()) {
      if (v.toTensor().defined() && (overwrite || !act_of(v))) keep(v.toTensor(), a);
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorVector()) mark(IValue(t), a, overwrite);
    } else if (v.isList()) {
      for (const IValue& e : v.toListRef()) mark(e, a, overwrite);
    } else if (v.isTuple()) {
      for (const IValue& e : v.toTupleRef().elements()) mark(e, a, overwrite);
    }
  }

  // ---- layers ----

  std::string unique_name(std::string base) {
    for (char& c : base)
      if (c == '.') c = '_';
    if (base.empty()) base = "layer";
    std::string name = base == modelgen::kInputName ? base + "_1" : base;
    for (int k = 1; used_names_.count(name); ++k) name = base + "_" + std::to_string(k);
    used_names_.insert(name);
    return name;
  }

  // The name of a layer made by `op_base` (torch's function name) in the current module: the
  // owner of its weight when it has one, the module itself when it is a leaf (nn.ReLU), the
  // module and the op in a module with submodules (a residual block's add), the op at the root.
  std::string layer_name(const Frame& f, const std::string& op_base, const IValue* weight) const {
    if (weight && weight->isTensor()) {
      const auto it = param_paths_.find(weight->toTensor().unsafeGetTensorImpl());
      if (it != param_paths_.end()) {
        const size_t dot = it->second.rfind('.');
        if (dot != std::string::npos && dot > 0) return it->second.substr(0, dot);
      }
    }
    if (f.module_path.empty()) return op_base;
    return f.leaf ? f.module_path : f.module_path + "." + op_base;
  }

  // Marks every tensor inside v as downstream of an op outside NetSpec, keeping what its
  // mapper said of its layout.
  void poison(const IValue& v) {
    if (v.isTensor()) {
      if (!v.toTensor().defined()) return;
      const auto it = acts_.find(v.toTensor().unsafeGetTensorImpl());
      if (it != acts_.end())
        it->second.poisoned = true;
      else
        keep(v.toTensor(), Activation{-1, true});
    } else if (v.isTensorList()) {
      for (const at::Tensor& t : v.toTensorVector()) poison(IValue(t));
    } else if (v.isList()) {
      for (const IValue& e : v.toListRef()) poison(e);
    } else if (v.isTuple()) {
      for (const IValue& e : v.toTupleRef().elements()) poison(e);
    }
  }

  // Adds a layer made from `inputs` whose output is `out` (null when no tensor of its own
  // exists), laid out as `layout` (a layer on a channels-last activation gives one too);
  // returns its index. In a dry run, only marks `out` as made outside NetSpec.
  int add_layer(Op op, LayerAttrs attrs, const std::vector<int>& inputs, std::string name,
                const at::Tensor* out, Layout layout = Layout::kNchw) {
    if (dry_run_) {
      if (out) mark(IValue(*out), Activation{-1, true, layout});
      return -1;
    }
    ImportedLayer l;
    l.layer.name = unique_name(std::move(name));
    l.layer.op = op;
    l.layer.attrs = std::move(attrs);
    for (int i : inputs)
      l.layer.inputs.push_back(i < 0 ? std::string(modelgen::kInputName) : layers_[static_cast<size_t>(i)].layer.name);
    if (out) {
      l.real_sizes = out->sizes().vec();
      if (layout == Layout::kNhwc && out->dim() == 4) {  // checked against NetSpec's NCHW shapes
        const std::vector<int64_t>& s = *l.real_sizes;
        l.real_sizes = std::vector<int64_t>{s[0], s[3], s[1], s[2]};
      }
    }
    layers_.push_back(std::move(l));
    const int index = static_cast<int>(layers_.size()) - 1;
    if (out) {
      acts_[out->unsafeGetTensorImpl()] = Activation{index, false, layout};
      alive_.push_back(*out);
    }
    return index;
  }

  // ---- the walk ----

  std::vector<IValue> call(const Graph& graph, const std::vector<IValue>& args, const std::string& path, bool leaf,
                           int depth) {
    if (depth > kMaxCallDepth) fail("calls nest deeper than " + std::to_string(kMaxCallDepth));
    Frame f;
    f.module_path = path;
    f.leaf = leaf;
    for (size_t i = 0; i < graph.inputs().size() && i < args.size(); ++i) f.env[graph.inputs()[i]] = args[i];
    walk(graph.block(), f, depth);
    std::vector<IValue> outs;
    for (const Value* v : graph.outputs()) outs.push_back(f.env.at(v));
    return outs;
  }

  void walk(const Block* block, Frame& f, int depth) {
    for (const Node* n : block->nodes()) visit(n, f, depth);
  }

  std::vector<IValue> inputs_of(const Node* n, const Frame& f) const {
    std::vector<IValue> in;
    for (const Value* v : n->inputs()) {
      const auto it = f.env.find(v);
      in.push_back(it == f.env.end() ? IValue() : it->second);
    }
    return in;
  }

  void bind_outputs(const Node* n, Frame& f, const std::vector<IValue>& values) {
    for (size_t i = 0; i < n->outputs().size(); ++i) f.env[n->output(i)] = i < values.size() ? values[i] : IValue();
  }

  std::vector<IValue> run_block(const Block* b, Frame& f, int depth, const std::vector<IValue>& block_inputs) {
    for (size_t i = 0; i < b->inputs().size() && i < block_inputs.size(); ++i) f.env[b->inputs()[i]] = block_inputs[i];
    walk(b, f, depth);
    std::vector<IValue> outs;
    for (const Value* v : b->outputs()) outs.push_back(f.env.at(v));
    return outs;
  }

  void visit(const Node* n, Frame& f, int depth) {
    const std::string kind = kind_of(n);
    const std::vector<IValue> in = inputs_of(n, f);
    if (kind == "prim::Constant") {
      const std::optional<IValue> v = torch::jit::toIValue(n->output());
      f.env[n->output()] = v ? *v : IValue();
    } else if (kind == "prim::GetAttr") {
      const auto obj = in.at(0).toObject();
      const std::string& attr = n->s(c10::attr::name);
      const IValue v = obj->getAttr(attr);
      const auto owner = object_paths_.find(obj.get());
      const std::string path = owner == object_paths_.end() ? "" : owner->second;
      const std::string child = path.empty() ? attr : path + "." + attr;
      if (is_module_object(v)) object_paths_.emplace(v.toObject().get(), child);
      if (v.isTensor() && v.toTensor().defined()) {
        param_paths_.emplace(v.toTensor().unsafeGetTensorImpl(), child);
        alive_.push_back(v.toTensor());
      }
      f.env[n->output()] = v;
    } else if (kind == "prim::SetAttr") {
      in.at(0).toObject()->setAttr(n->s(c10::attr::name), in.at(1));
    } else if (kind == "prim::If") {
      if (!in.at(0).isBool()) fail("a condition that is not a bool" + location(n, f.module_path));
      bind_outputs(n, f, run_block(n->blocks()[in[0].toBool() ? 0 : 1], f, depth, {}));
    } else if (kind == "prim::Loop") {
      visit_loop(n, f, depth, in);
    } else if (kind == "prim::CallMethod") {
      const auto obj = in.at(0).toObject();
      torch::jit::Function& method = obj->type()->getMethod(n->s(c10::attr::name));
      const auto owner = object_paths_.find(obj.get());
      const std::string path = owner == object_paths_.end() ? f.module_path : owner->second;
      bind_outputs(n, f, call(*torch::jit::toGraphFunction(method).graph(), in, path, !has_submodules(*obj),
                              depth + 1));
    } else if (kind == "prim::CallFunction") {
      const auto fn_type = n->input(0)->type()->cast<c10::FunctionType>();
      if (!fn_type) fail("a call of something that is not a function" + location(n, f.module_path));
      const std::vector<IValue> args(in.begin() + 1, in.end());
      bind_outputs(n, f, call(*torch::jit::toGraphFunction(*fn_type->function()).graph(), args, f.module_path,
                              f.leaf, depth + 1));
    } else if (kind == "prim::RaiseException") {
      const std::string message = !in.empty() && in[0].isString() ? in[0].toStringRef() : "an exception";
      fail("the model raised \"" + first_line(message) + "\"" + location(n, f.module_path) + " on a " +
           input_text() + " input (give the input size with --input C,H,W)");
    } else if (kind == "aten::warn" || kind == "prim::Print") {
      // Nothing that the network computes.
    } else if (!visit_container(n, f, kind, in)) {
      visit_op(n, f, kind, in);
    }
  }

  // The container ops that LibTorch's interpreter runs itself (they have no operator to call).
  // Their outputs hold the very tensors of their inputs, so activations stay what they are.
  bool visit_container(const Node* n, Frame& f, const std::string& kind, const std::vector<IValue>& in) {
    if (kind == "prim::ListConstruct") {
      const auto list_type = n->output()->type()->cast<c10::ListType>();
      if (!list_type) fail("a list of unknown type" + location(n, f.module_path));
      c10::impl::GenericList list(list_type->getElementType());
      list.reserve(in.size());
      for (const IValue& v : in) list.push_back(v);
      f.env[n->output()] = IValue(list);
    } else if (kind == "prim::TupleConstruct") {
      const auto tuple_type = n->output()->type()->cast<c10::TupleType>();
      f.env[n->output()] = tuple_type && tuple_type->schema() ? IValue(c10::ivalue::Tuple::createNamed(in, tuple_type))
                                                              : IValue(c10::ivalue::Tuple::create(in));
    } else if (kind == "prim::TupleUnpack" || kind == "prim::ListUnpack") {
      std::vector<IValue> elements;
      if (in.at(0).isTuple()) {
        const auto& e = in[0].toTupleRef().elements();
        elements.assign(e.begin(), e.end());
      } else if (in[0].isList()) {
        const auto& e = in[0].toListRef();
        elements.assign(e.begin(), e.end());
      }
      if (elements.size() != n->outputs().size())
        fail("unpacks " + std::to_string(elements.size()) + " values into " + std::to_string(n->outputs().size()) +
             location(n, f.module_path));
      bind_outputs(n, f, elements);
    } else if (kind == "prim::TupleIndex") {
      const auto& e = in.at(0).toTupleRef().elements();
      int64_t i = in.at(1).toInt();
      if (i < 0) i += static_cast<int64_t>(e.size());
      if (i < 0 || i >= static_cast<int64_t>(e.size())) fail("a tuple index out of range" + location(n, f.module_path));
      f.env[n->output()] = e[static_cast<size_t>(i)];
    } else if (kind == "prim::unchecked_cast") {
      f.env[n->output()] = in.at(0);
    } else if (kind == "prim::Uninitialized") {
      f.env[n->output()] = IValue();
    } else {
      return false;
    }
    return true;
  }

  void visit_loop(const Node* n, Frame& f, int depth, const std::vector<IValue>& in) {
    // prim::Loop(max_trip_count, initial_condition, carried...): the body takes (i, carried...)
    // and gives (condition, carried...).
    int64_t max_trips = in.at(0).toInt();
    bool cond = in.at(1).toBool();
    std::vector<IValue> carried(in.begin() + 2, in.end());
    const Block* body = n->blocks()[0];
    for (int64_t i = 0; cond && i < max_trips; ++i) {
      if (i >= kMaxLoopTrips) fail("a loop runs more than " + std::to_string(kMaxLoopTrips) + " times" +
                                   location(n, f.module_path));
      std::vector<IValue> block_in = {IValue(i)};
      block_in.insert(block_in.end(), carried.begin(), carried.end());
      std::vector<IValue> out = run_block(body, f, depth, block_in);
      cond = out.at(0).toBool();
      carried.assign(out.begin() + 1, out.end());
    }
    bind_outputs(n, f, carried);
  }

  // Runs the node by LibTorch's own operator.
  std::vector<IValue> execute(const Node* n, const Frame& f, const std::vector<IValue>& in) {
    if (!n->maybeOperator()) fail(kind_of(n) + " cannot be run here" + location(n, f.module_path));
    torch::jit::Stack stack(in.begin(), in.end());
    try {
      n->getOperation()(stack);
    } catch (const c10::Error& e) {
      fail(kind_of(n) + location(n, f.module_path) + " failed on a " + input_text() + " input: " +
           first_line(e.what_without_backtrace()) + " (give the input size with --input C,H,W)");
    }
    const size_t n_out = n->outputs().size();
    if (stack.size() < n_out) fail(kind_of(n) + location(n, f.module_path) + " gave too few outputs");
    return std::vector<IValue>(stack.end() - static_cast<std::ptrdiff_t>(n_out), stack.end());
  }

  void visit_op(const Node* n, Frame& f, const std::string& kind, const std::vector<IValue>& in) {
    std::vector<const Activation*> acts;
    for (const IValue& v : in) collect(v, acts);
    const std::vector<IValue> out = execute(n, f, in);
    bind_outputs(n, f, out);
    if (acts.empty()) {
      track_noise(kind, in, out);
      // Not on activations: parameter bookkeeping, or a parameter reshaped for use (W.t()),
      // which keeps the parameter's path for naming the layer that uses it.
      for (const IValue& v : in)
        if (v.isTensor() && v.toTensor().defined())
          if (const auto p = param_paths_.find(v.toTensor().unsafeGetTensorImpl()); p != param_paths_.end()) {
            for (const IValue& o : out)
              if (o.isTensor() && o.toTensor().defined()) {
                param_paths_.emplace(o.toTensor().unsafeGetTensorImpl(), p->second);
                alive_.push_back(o.toTensor());
              }
            break;
          }
      return;
    }
    if (metadata_ops().count(kind)) return;  // no activation out

    const bool poisoned = std::any_of(acts.begin(), acts.end(), [](const Activation* a) { return a->poisoned; });
    if (structural_ops().count(kind)) {
      // The same tensors; a copy made by contiguous() is the same activation.
      if (kind == "aten::contiguous" || kind == "prim::unchecked_cast")
        for (const IValue& o : out) mark(o, *acts.front());
      return;
    }
    // Downstream of an op outside NetSpec, an op is still checked (so that the error lists
    // every such op), but makes no layer.
    dry_run_ = poisoned;
    const std::optional<Unsupported> problem = map_op(f, kind, in, out, acts);
    dry_run_ = false;
    if (problem) {
      unsupported_.push_back(kind + location(n, f.module_path) +
                             (problem->reason.empty() ? "" : " (" + problem->reason + ")"));
      for (const IValue& o : out) mark(o, Activation{-1, true}, /*overwrite=*/true);
    } else if (poisoned) {
      for (const IValue& o : out) poison(o);
    }
  }

  // Stochastic depth's noise, which touches no activation until it multiplies one:
  // bernoulli(_) with probability 1 - p of keeping a sample, then perhaps div(_) by it.
  void track_noise(const std::string& kind, const std::vector<IValue>& in, const std::vector<IValue>& out) {
    if (out.empty() || !out[0].isTensor() || !out[0].toTensor().defined() || in.size() < 2) return;
    const at::Tensor& result = out[0].toTensor();
    if ((kind == "aten::bernoulli_" || kind == "aten::bernoulli") && in[1].isDouble()) {
      noise_[result.unsafeGetTensorImpl()] = in[1].toDouble();
      alive_.push_back(result);
    } else if ((kind == "aten::div_" || kind == "aten::div") && in[0].isTensor()) {
      const auto it = noise_.find(in[0].toTensor().unsafeGetTensorImpl());
      if (it == noise_.end()) return;
      noise_[result.unsafeGetTensorImpl()] = it->second;
      alive_.push_back(result);
    }
  }

  // ---- the ops of NetSpec ----

  // The layer behind an activation argument, or nullopt when the argument is not one. In a
  // dry run, an activation made by an op outside NetSpec stands for a layer (-1).
  std::optional<int> layer_of(const IValue& v) const {
    const Activation* a = act_of(v);
    if (!a) return std::nullopt;
    if (a->poisoned) return dry_run_ ? std::optional<int>(-1) : std::nullopt;
    return a->layer;
  }
  // The op's output is its input, unchanged (a flatten of what is flat already), perhaps
  // laid out otherwise (a permute).
  void alias(const IValue& out, int layer, Layout layout = Layout::kNchw, int64_t groups = 0) {
    mark(out, Activation{layer, dry_run_, layout, groups});
  }
  static bool is_weight(const IValue& v) { return v.isTensor() && v.toTensor().defined(); }

  // One op on activations, as the mappers of its family see it.
  struct OpCall {
    const Frame& f;
    const std::string& kind;
    const std::vector<IValue>& in;
    const std::vector<IValue>& out;
    const at::Tensor* result;  // the op's tensor output, if it has one
    // The layer behind the first argument, which most ops take as their activation.
    bool has_x;
    int x;
    int64_t x_dim;  // -1 when the first argument is not an activation
    Layout x_layout;
    int64_t x_groups;
  };
  using OpMapper = std::optional<Unsupported> (Importer::*)(const OpCall&);
  struct MapperEntry {
    OpMapper map;
    bool any_layout;  // the mapper itself checks how its activations are laid out
  };

  // The mapper of each op kind NetSpec can say, by family; `true`: it takes activations in
  // any layout (and checks them itself), else only NCHW ones.
  static const std::unordered_map<std::string_view, MapperEntry>& op_mappers() {
    static const std::unordered_map<std::string_view, MapperEntry> mappers = {
        // convolution and normalisation
        {"aten::_convolution", {&Importer::map_convolution, false}},
        {"aten::convolution", {&Importer::map_convolution, false}},
        {"aten::conv2d", {&Importer::map_convolution, false}},
        {"aten::batch_norm", {&Importer::map_batch_norm, false}},
        {"aten::layer_norm", {&Importer::map_layer_norm, true}},
        // matrix products
        {"aten::linear", {&Importer::map_linear, true}},
        {"aten::addmm", {&Importer::map_linear, false}},
        {"aten::matmul", {&Importer::map_linear, false}},
        {"aten::mm", {&Importer::map_linear, false}},
        // activations and dropout
        {"aten::relu", {&Importer::map_activation, true}},
        {"aten::relu_", {&Importer::map_activation, true}},
        {"aten::relu6", {&Importer::map_activation, true}},
        {"aten::relu6_", {&Importer::map_activation, true}},
        {"aten::hardtanh", {&Importer::map_activation, true}},
        {"aten::hardtanh_", {&Importer::map_activation, true}},
        {"aten::silu", {&Importer::map_activation, true}},
        {"aten::silu_", {&Importer::map_activation, true}},
        {"aten::hardswish", {&Importer::map_activation, true}},
        {"aten::hardswish_", {&Importer::map_activation, true}},
        {"aten::hardsigmoid", {&Importer::map_activation, true}},
        {"aten::hardsigmoid_", {&Importer::map_activation, true}},
        {"aten::sigmoid", {&Importer::map_activation, true}},
        {"aten::sigmoid_", {&Importer::map_activation, true}},
        {"aten::gelu", {&Importer::map_activation, true}},
        {"aten::gelu_", {&Importer::map_activation, true}},
        {"aten::dropout", {&Importer::map_dropout, true}},
        {"aten::dropout_", {&Importer::map_dropout, true}},
        // pooling
        {"aten::max_pool2d", {&Importer::map_pool, false}},
        {"aten::avg_pool2d", {&Importer::map_pool, false}},
        {"aten::adaptive_avg_pool2d", {&Importer::map_adaptive_pool, false}},
        {"aten::mean", {&Importer::map_mean, false}},
        // merging branches and products
        {"aten::add", {&Importer::map_add, false}},
        {"aten::add_", {&Importer::map_add, false}},
        {"aten::cat", {&Importer::map_cat, false}},
        {"aten::mul", {&Importer::map_mul, true}},
        // channel ranges
        {"aten::slice", {&Importer::map_slice, false}},
        {"aten::narrow", {&Importer::map_slice, false}},
        {"aten::chunk", {&Importer::map_slice, false}},
        {"aten::unsafe_chunk", {&Importer::map_slice, false}},
        {"aten::split", {&Importer::map_slice, false}},
        {"aten::unsafe_split", {&Importer::map_slice, false}},
        {"aten::split_with_sizes", {&Importer::map_slice, false}},
        {"aten::unsafe_split_with_sizes", {&Importer::map_slice, false}},
        // shape ops
        {"aten::flatten", {&Importer::map_flatten, false}},
        {"aten::view", {&Importer::map_view, true}},
        {"aten::reshape", {&Importer::map_view, true}},
        {"aten::view_as", {&Importer::map_view, true}},
        {"aten::reshape_as", {&Importer::map_view, true}},
        {"aten::permute", {&Importer::map_permute, true}},
        {"aten::transpose", {&Importer::map_transpose, true}},
        {"aten::channel_shuffle", {&Importer::map_channel_shuffle, false}},
        {"aten::native_channel_shuffle", {&Importer::map_channel_shuffle, false}},
    };
    return mappers;
  }

  // Maps one op on activations (`acts`: those among its arguments) to layers; returns why it
  // cannot be, if it cannot.
  std::optional<Unsupported> map_op(const Frame& f, const std::string& kind, const std::vector<IValue>& in,
                                    const std::vector<IValue>& out, const std::vector<const Activation*>& acts) {
    const std::optional<int> first = !in.empty() ? layer_of(in[0]) : std::nullopt;
    const Activation* first_act = first ? act_of(in[0]) : nullptr;
    const OpCall op{f,
                    kind,
                    in,
                    out,
                    !out.empty() && out[0].isTensor() ? &out[0].toTensor() : nullptr,
                    first.has_value(),
                    first.value_or(-1),
                    first ? in[0].toTensor().dim() : -1,
                    first_act ? first_act->layout : Layout::kNchw,
                    first_act ? first_act->groups : 0};
    // Every op but these takes an activation first (a layer scale's parameter may come first).
    const bool on_x = kind != "aten::addmm" && kind != "aten::cat" && kind != "aten::add" && kind != "aten::add_" &&
                      kind != "aten::mul";
    if (on_x && !op.has_x) return unsupported("its first argument is not an activation");
    const auto mapper = op_mappers().find(kind);
    if (mapper == op_mappers().end()) return unsupported("");
    if (!mapper->second.any_layout)
      for (const Activation* a : acts)
        if (a->layout != Layout::kNchw) return unsupported(layout_problem(a->layout));
    return (this->*mapper->second.map)(op);
  }

  // ---- convolution and normalisation ----

  // _convolution, convolution and conv2d: a 2-d convolution, not transposed.
  std::optional<Unsupported> map_convolution(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (!op.has_x || op.x_dim != 4) return unsupported("a convolution whose input is not a 4-d activation");
    if (!is_weight(in[1]) || act_of(in[1]) || in[1].toTensor().dim() != 4)
      return unsupported("a convolution whose weight is not a 4-d parameter");
    const at::Tensor& w = in[1].toTensor();
    const bool conv2d = op.kind == "aten::conv2d";
    if (!conv2d && in.at(6).toBool()) return unsupported("transposed convolution");
    modelgen::Conv2dAttrs a;
    a.in_channels = in[0].toTensor().size(1);
    a.out_channels = w.size(0);
    a.kernel = Hw{w.size(2), w.size(3)};
    a.bias = is_weight(in[2]);
    if (a.bias && act_of(in[2])) return unsupported("a bias computed from activations");
    const std::optional<Hw> stride = pair_of(in.at(3)), dilation = pair_of(in.at(5));
    if (!stride || !dilation) return unsupported("stride or dilation that is not one or two integers");
    a.stride = *stride;
    a.dilation = *dilation;
    if (std::optional<Unsupported> problem = convolution_padding(in.at(4), a)) return problem;
    a.groups = in.at(conv2d ? 6 : 8).toInt();
    if (w.size(1) * a.groups != a.in_channels) return unsupported("weight and groups that do not match the input");
    add_layer(Op::kConv2d, a, {op.x}, layer_name(op.f, "conv2d", &in[1]), op.result);
    return std::nullopt;
  }

  // Sets a.padding from a convolution's padding argument: one or two integers, or conv2d's
  // "valid" or "same" (which needs a's kernel and dilation).
  static std::optional<Unsupported> convolution_padding(const IValue& padding, modelgen::Conv2dAttrs& a) {
    if (!padding.isString()) {
      const std::optional<Hw> p = pair_of(padding);
      if (!p) return unsupported("padding that is not one or two integers");
      a.padding = *p;
      return std::nullopt;
    }
    const std::string& mode = padding.toStringRef();
    a.padding = Hw{0, 0};
    if (mode == "same") {
      const int64_t th = a.dilation.h * (a.kernel.h - 1), tw = a.dilation.w * (a.kernel.w - 1);
      if (th % 2 || tw % 2) return unsupported("padding \"same\" that pads one side more");
      a.padding = Hw{th / 2, tw / 2};
    } else if (mode != "valid") {
      return unsupported("padding \"" + mode + "\"");
    }
    return std::nullopt;
  }

  // batch_norm with affine parameters and running statistics.
  std::optional<Unsupported> map_batch_norm(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (!op.has_x || op.x_dim != 4) return unsupported("a batch norm whose input is not a 4-d activation");
    for (size_t i : {1, 2})
      if (!is_weight(in[i]) || act_of(in[i])) return unsupported("a batch norm without affine parameters");
    for (size_t i : {3, 4})
      if (!is_weight(in[i]) || act_of(in[i])) return unsupported("a batch norm without running statistics");
    add_layer(Op::kBatchNorm2d, modelgen::BatchNorm2dAttrs{in[0].toTensor().size(1)}, {op.x},
              layer_name(op.f, "batch_norm", &in[1]), op.result);
    return std::nullopt;
  }

  // layer_norm over the channels of a channels-last activation, with affine parameters:
  // ConvNeXt's LayerNorm2d and its blocks' norm, between two permutes.
  std::optional<Unsupported> map_layer_norm(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    const std::optional<std::vector<int64_t>> shape = ints_of(in.at(1));
    if (op.x_layout != Layout::kNhwc || op.x_dim != 4 || !shape || shape->size() != 1)
      return unsupported("a layer norm other than over the channels of a permuted (channels-last) activation");
    const int64_t c = in[0].toTensor().size(3);
    if ((*shape)[0] != c) return unsupported("a layer norm other than over the channels");
    for (size_t i : {2, 3})
      if (!is_weight(in.at(i)) || act_of(in[i]) || in[i].toTensor().numel() != c)
        return unsupported("a layer norm without affine parameters");
    add_layer(Op::kLayerNorm2d, modelgen::ChannelAttrs{c, in.at(4).toDouble()}, {op.x},
              layer_name(op.f, "layer_norm", &in[2]), op.result, Layout::kNhwc);
    return std::nullopt;
  }

  // ---- matrix products ----

  // linear, addmm, matmul and mm of a flat activation and a 2-d parameter: a linear layer.
  std::optional<Unsupported> map_linear(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    // linear(x, W, b): W [out, in]; addmm(b, x, Wt, beta, alpha) and matmul(x, Wt): Wt [in, out].
    const bool addmm = op.kind == "aten::addmm";
    if (op.kind == "aten::linear" && op.x_layout == Layout::kNhwc) return map_channels_last_linear(op);
    if (op.has_x && op.x_layout != Layout::kNchw) return unsupported(layout_problem(op.x_layout));
    const size_t xi = addmm ? 1 : 0, wi = addmm ? 2 : 1;
    const std::optional<int> xl = layer_of(in.at(xi));
    if (!xl || in[xi].toTensor().dim() != 2) return unsupported("a matrix product whose input is not a flat activation");
    if (!is_weight(in.at(wi)) || act_of(in[wi]) || in[wi].toTensor().dim() != 2)
      return unsupported("a matrix product with something other than a 2-d parameter");
    const at::Tensor& w = in[wi].toTensor();
    modelgen::LinearAttrs a;
    const bool transposed = op.kind != "aten::linear";
    a.in_features = transposed ? w.size(0) : w.size(1);
    a.out_features = transposed ? w.size(1) : w.size(0);
    if (op.kind == "aten::linear") {
      a.bias = is_weight(in.at(2));
      if (a.bias && act_of(in[2])) return unsupported("a bias computed from activations");
    } else if (addmm) {
      if (!is_weight(in[0]) || act_of(in[0]) || in[0].toTensor().numel() != a.out_features)
        return unsupported("addmm whose first term is not a bias vector");
      if (in.at(3).toScalar().toDouble() != 1.0 || in.at(4).toScalar().toDouble() != 1.0)
        return unsupported("addmm with beta or alpha other than 1");
      a.bias = true;
    } else {
      a.bias = false;  // an add of a bias vector may follow
    }
    add_layer(Op::kLinear, a, {*xl}, layer_name(op.f, "linear", &in[wi]), op.result);
    return std::nullopt;
  }

  // linear on a channels-last [N, H, W, C] activation: at each position the same product as
  // a 1x1 convolution of [N, C, H, W] with the same weight [out, C] and bias (ConvNeXt's
  // pointwise layers).
  std::optional<Unsupported> map_channels_last_linear(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (op.x_dim != 4) return unsupported("a linear layer on a channels-last activation that is not 4-d");
    if (!is_weight(in.at(1)) || act_of(in[1]) || in[1].toTensor().dim() != 2)
      return unsupported("a matrix product with something other than a 2-d parameter");
    const at::Tensor& w = in[1].toTensor();
    modelgen::Conv2dAttrs a;
    a.in_channels = w.size(1);
    a.out_channels = w.size(0);
    a.kernel = Hw{1, 1};
    a.bias = is_weight(in.at(2));
    if (a.bias && act_of(in[2])) return unsupported("a bias computed from activations");
    add_layer(Op::kConv2d, a, {op.x}, layer_name(op.f, "linear", &in[1]), op.result, Layout::kNhwc);
    return std::nullopt;
  }

  // ---- activations and dropout ----

  // The element-wise activations: relu(_); relu6(_) and hardtanh(_) over [0, 6]; silu(_),
  // hardswish(_), hardsigmoid(_) (`_`: in place); sigmoid and exact gelu, which NetSpec has
  // out of place only. On NCHW or channels-last activations alike.
  std::optional<Unsupported> map_activation(const OpCall& op) {
    struct Kind {
      Op op;
      const char* base;  // names the layer
    };
    static const std::unordered_map<std::string_view, Kind> kinds = {
        {"relu", {Op::kRelu, "relu"}},           {"relu6", {Op::kRelu6, "relu6"}},
        {"hardtanh", {Op::kRelu6, "relu6"}},     {"silu", {Op::kSilu, "silu"}},
        {"hardswish", {Op::kHardswish, "hardswish"}}, {"hardsigmoid", {Op::kHardsigmoid, "hardsigmoid"}},
        {"sigmoid", {Op::kSigmoid, "sigmoid"}},  {"gelu", {Op::kGelu, "gelu"}},
    };
    if (op.x_layout != Layout::kNchw && op.x_layout != Layout::kNhwc) return unsupported(layout_problem(op.x_layout));
    const bool inplace = op.kind.back() == '_';
    const std::string name = op.kind.substr(6, op.kind.size() - 6 - (inplace ? 1 : 0));  // past "aten::"
    const Kind& k = kinds.at(name);
    if (inplace && !modelgen::has_inplace_form(k.op))
      return unsupported("in place, where NetSpec's " + std::string(modelgen::op_name(k.op)) + " is out of place only");
    if (name == "hardtanh")
      if (op.in.at(1).toScalar().toDouble() != 0.0 || op.in.at(2).toScalar().toDouble() != 6.0)
        return unsupported("hardtanh over a range other than [0, 6]");
    if (name == "gelu" && op.in.size() > 1 && op.in[1].isString() && op.in[1].toStringRef() != "none")
      return unsupported("gelu with the \"" + op.in[1].toStringRef() + "\" approximation");
    add_layer(k.op, modelgen::ActivationAttrs{inplace}, {op.x}, layer_name(op.f, k.base, nullptr), op.result,
              op.x_layout);
    return std::nullopt;
  }

  // dropout and dropout_, on NCHW or channels-last activations.
  std::optional<Unsupported> map_dropout(const OpCall& op) {
    if (op.x_layout != Layout::kNchw && op.x_layout != Layout::kNhwc) return unsupported(layout_problem(op.x_layout));
    add_layer(Op::kDropout, modelgen::DropoutAttrs{op.in.at(1).toDouble()}, {op.x},
              layer_name(op.f, "dropout", nullptr), op.result, op.x_layout);
    return std::nullopt;
  }

  // ---- pooling ----

  // max_pool2d without dilation, and avg_pool2d that counts padding and has no divisor override.
  std::optional<Unsupported> map_pool(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (!op.has_x || op.x_dim != 4) return unsupported("pooling whose input is not a 4-d activation");
    const bool max = op.kind == "aten::max_pool2d";
    modelgen::Pool2dAttrs a;
    const std::optional<Hw> kernel = pair_of(in.at(1)), padding = pair_of(in.at(3));
    std::optional<Hw> stride = pair_of(in.at(2));
    if (in[2].isIntList() && in[2].toIntVector().empty()) stride = kernel;  // PyTorch's default
    if (!kernel || !stride || !padding) return unsupported("kernel, stride or padding that is not one or two integers");
    a.kernel = *kernel;
    a.stride = *stride;
    a.padding = *padding;
    if (max) {
      const std::optional<Hw> dilation = pair_of(in.at(4));
      if (!dilation || *dilation != Hw{1, 1}) return unsupported("max pooling with dilation");
      a.ceil_mode = in.at(5).toBool();
    } else {
      a.ceil_mode = in.at(4).toBool();
      if (!in.at(5).toBool() && a.padding != Hw{0, 0})
        return unsupported("average pooling that leaves padding out of the count");
      if (!in.at(6).isNone()) return unsupported("average pooling with a divisor override");
    }
    add_layer(max ? Op::kMaxPool2d : Op::kAvgPool2d, a, {op.x},
              layer_name(op.f, max ? "max_pool2d" : "avg_pool2d", nullptr), op.result);
    return std::nullopt;
  }

  // adaptive_avg_pool2d of a 4-d activation to the size of its result.
  std::optional<Unsupported> map_adaptive_pool(const OpCall& op) {
    const at::Tensor* result = op.result;
    if (!op.has_x || op.x_dim != 4 || !result || result->dim() != 4)
      return unsupported("adaptive pooling whose input is not a 4-d activation");
    add_layer(Op::kAdaptiveAvgPool2d, modelgen::AdaptivePool2dAttrs{Hw{result->size(2), result->size(3)}}, {op.x},
              layer_name(op.f, "adaptive_avg_pool2d", nullptr), result);
    return std::nullopt;
  }

  // mean over height and width: global average pooling, then a flatten unless keepdim.
  std::optional<Unsupported> map_mean(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (!op.has_x || op.x_dim != 4 || in.size() < 3 || !in[1].isIntList())
      return unsupported("a mean other than over the height and width of a 4-d activation");
    std::set<int64_t> dims;
    for (int64_t d : in[1].toIntVector()) dims.insert(d < 0 ? d + 4 : d);
    if (dims != std::set<int64_t>{2, 3}) return unsupported("a mean other than over the height and width");
    const bool keepdim = in[2].toBool();
    const int pool = add_layer(Op::kAdaptiveAvgPool2d, modelgen::AdaptivePool2dAttrs{Hw{1, 1}}, {op.x},
                               layer_name(op.f, "mean", nullptr), keepdim ? op.result : nullptr);
    if (!keepdim) add_layer(Op::kFlatten, std::monostate{}, {pool}, layer_name(op.f, "flatten", nullptr), op.result);
    return std::nullopt;
  }

  // ---- merging branches ----

  // add and add_ of two activations, or of a bias vector to a linear layer's output.
  std::optional<Unsupported> map_add(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (in.size() < 3 || !in[1].isTensor()) return unsupported("an add of a number");
    if (in[2].toScalar().toDouble() != 1.0) return unsupported("an add with alpha other than 1");
    const std::optional<int> a = layer_of(in[0]), b = layer_of(in[1]);
    if (a && b) {
      if (in[0].toTensor().sizes() != in[1].toTensor().sizes()) return unsupported("an add that broadcasts");
      add_layer(Op::kAdd, std::monostate{}, {*a, *b}, layer_name(op.f, "add", nullptr), op.result);
      return std::nullopt;
    }
    // x W^T followed by + b: the bias of the linear layer that made x.
    const std::optional<int> l = a ? a : b;
    const IValue& other = a ? in[1] : in[0];
    if (dry_run_ && l && *l < 0 && !act_of(other)) return std::nullopt;  // a bias, perhaps
    if (l && *l >= 0 && !act_of(other)) {
      Layer& layer = layers_[static_cast<size_t>(*l)].layer;
      if (layer.op == Op::kLinear && !layer.linear().bias &&
          other.toTensor().numel() == layer.linear().out_features && other.toTensor().dim() <= 2) {
        layer.linear().bias = true;
        if (op.result) alias(IValue(*op.result), *l);
        return std::nullopt;
      }
    }
    return unsupported("an add of a tensor that no layer made");
  }

  // cat of activations along the channels; of one activation, that activation itself.
  std::optional<Unsupported> map_cat(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    std::vector<int> inputs;
    if (!in.at(0).isTensorList()) return unsupported("cat of something other than a list of tensors");
    int64_t dim = -1;
    for (const at::Tensor& t : in[0].toTensorVector()) {
      const std::optional<int> l = layer_of(IValue(t));
      if (!l) return unsupported("cat of a tensor that is not an activation");
      inputs.push_back(*l);
      dim = t.dim();
    }
    int64_t along = in.at(1).toInt();
    if (along < 0) along += dim;
    if (along != 1) return unsupported("cat along a dimension other than the channels");
    if (inputs.size() == 1) {
      alias(op.out[0], inputs[0]);
      return std::nullopt;
    }
    add_layer(Op::kConcat, std::monostate{}, inputs, layer_name(op.f, "cat", nullptr), op.result);
    return std::nullopt;
  }

  // mul of two activations (one shape, or squeeze-excitation's [N, C, 1, 1] factor and
  // [N, C, H, W]); of an activation and a per-channel parameter (layer scale); of an activation
  // and stochastic depth's noise (drop_path).
  std::optional<Unsupported> map_mul(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    if (in.size() < 2 || !in[1].isTensor()) return unsupported("a mul by a number");
    const std::optional<int> a = layer_of(in[0]), b = layer_of(in[1]);
    if (a && b) {
      for (size_t i : {0, 1})
        if (const Layout l = act_of(in[i])->layout; l != Layout::kNchw) return unsupported(layout_problem(l));
      const at::Tensor& ta = in[0].toTensor();
      const at::Tensor& tb = in[1].toTensor();
      auto per_channel_of = [](const at::Tensor& f, const at::Tensor& x) {
        return f.dim() == 4 && x.dim() == 4 && f.size(0) == x.size(0) && f.size(1) == x.size(1) && f.size(2) == 1 &&
               f.size(3) == 1;
      };
      if (ta.sizes() != tb.sizes() && !per_channel_of(ta, tb) && !per_channel_of(tb, ta))
        return unsupported("a mul of " + batch_sizes_str(ta.sizes()) + " and " + batch_sizes_str(tb.sizes()) +
                           "; NetSpec multiplies one shape, or a [N, C, 1, 1] factor and [N, C, H, W]");
      add_layer(Op::kMul, std::monostate{}, {*a, *b}, layer_name(op.f, "mul", nullptr), op.result);
      return std::nullopt;
    }
    if (!a && !b) return unsupported("a mul of tensors that are not activations");
    const IValue& x = a ? in[0] : in[1];
    const IValue& other = a ? in[1] : in[0];
    const int xl = a ? *a : *b;
    const Activation& xa = *act_of(x);
    const at::Tensor& xt = x.toTensor();
    const at::Tensor& t = other.toTensor();
    if (const auto noise = noise_.find(t.unsafeGetTensorImpl()); noise != noise_.end()) {
      if (xa.layout != Layout::kNchw) return unsupported(layout_problem(xa.layout));
      bool per_sample = t.dim() == xt.dim() && t.size(0) == xt.size(0);
      for (int64_t d = 1; per_sample && d < t.dim(); ++d) per_sample = t.size(d) == 1;
      if (!per_sample) return unsupported("stochastic depth other than per sample (mode \"row\")");
      const double p = drop_probability(noise->second);
      add_layer(Op::kDropPath, modelgen::DropoutAttrs{p}, {xl}, layer_name(op.f, "drop_path", nullptr), op.result);
      return std::nullopt;
    }
    if (!param_paths_.count(t.unsafeGetTensorImpl()))
      return unsupported("a mul by a tensor that is neither an activation, a parameter nor stochastic depth's noise");
    // A [C, 1, 1] (or [1, C, 1, 1]) parameter on [N, C, H, W]; a [C] one on [N, H, W, C].
    const int64_t c = xt.dim() == 4 ? xt.size(xa.layout == Layout::kNhwc ? 3 : 1) : -1;
    const bool scale = xa.layout == Layout::kNhwc
                           ? t.dim() == 1 && t.size(0) == c
                           : xa.layout == Layout::kNchw && t.numel() == c && t.dim() >= 3 && t.dim() <= 4 &&
                                 t.size(-3) == c;
    if (!scale)
      return unsupported("a mul of " + batch_sizes_str(xt.sizes()) + " by a parameter of " + sizes_str(t.sizes()) +
                         "; NetSpec scales by one factor per channel");
    // Named after its module when the factor is that module's weight (modelgen's scale), else
    // after the parameter itself (ConvNeXt's features.1.0.layer_scale, beside the block's
    // submodules).
    std::string name = layer_name(op.f, "mul", &other);
    const std::string& path = param_paths_.at(t.unsafeGetTensorImpl());
    if (path.size() < 7 || path.compare(path.size() - 7, 7, ".weight") != 0) name = path;
    add_layer(Op::kScale, modelgen::ChannelAttrs{c, modelgen::ChannelAttrs{}.eps}, {xl}, name, op.result, xa.layout);
    return std::nullopt;
  }

  // ---- channel ranges ----

  // slice and narrow (one view), chunk and split (a list of views) of a 4-d activation: each
  // view that is a range of its channels (step 1) is a slice layer, one that is all of the
  // input is the input itself; a view along another dimension must keep all of it (x[:, a:b]
  // also slices the batch from 0 to the end).
  std::optional<Unsupported> map_slice(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    const at::Tensor& t = in[0].toTensor();
    std::vector<at::Tensor> pieces;
    if (op.out.at(0).isTensor())
      pieces.push_back(op.out[0].toTensor());
    else if (op.out[0].isTensorList())
      pieces = op.out[0].toTensorVector();
    else
      return unsupported("");
    // Where each piece lies: [start, end) along the one dimension it narrows, if it is a view
    // of the input with step 1.
    struct Range {
      int64_t dim = -1, start = 0, end = 0;
    };
    std::vector<Range> ranges;
    for (const at::Tensor& p : pieces) {
      if (p.dim() != t.dim() || !p.is_alias_of(t)) return unsupported("a slice that is not a view of its input");
      Range r;
      for (int64_t d = 0; d < t.dim(); ++d) {
        if (p.size(d) == t.size(d)) continue;
        if (r.dim >= 0) return unsupported("a slice along two dimensions");
        r.dim = d;
      }
      if (r.dim < 0) {
        if (p.storage_offset() != t.storage_offset()) return unsupported("a slice that is not a view of its input");
        ranges.push_back(r);  // all of the input
        continue;
      }
      const int64_t stride = t.stride(r.dim), offset = p.storage_offset() - t.storage_offset();
      if (stride <= 0 || offset % stride != 0 || (p.size(r.dim) > 1 && p.stride(r.dim) != stride))
        return unsupported("a slice with a step other than 1");
      r.start = offset / stride;
      r.end = r.start + p.size(r.dim);
      if (r.dim != 1) return unsupported("a slice along a dimension other than the channels");
      if (t.dim() != 4) return unsupported("a slice of a flat activation");
      ranges.push_back(r);
    }
    const std::string base = op.kind.substr(6);  // past "aten::"
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (ranges[i].dim < 0) {
        alias(IValue(pieces[i]), op.x);
        continue;
      }
      add_layer(Op::kSlice, modelgen::SliceAttrs{ranges[i].start, ranges[i].end}, {op.x},
                layer_name(op.f, base, nullptr), &pieces[i]);
    }
    return std::nullopt;
  }

  // ---- shape ops ----

  // view and reshape (and their _as forms): a step of a channel shuffle (to [N, g, C/g, H, W]; from its transpose
  // back to [N, C, H, W]: the channel_shuffle layer), to the same sizes (nothing), else a
  // flatten.
  std::optional<Unsupported> map_view(const OpCall& op) {
    const at::Tensor* result = op.result;
    if (!result) return unsupported("");
    const at::Tensor& t = op.in[0].toTensor();
    const c10::IntArrayRef r = result->sizes();
    const bool back_to_4d = t.dim() == 5 && r.size() == 4 && r[0] == t.size(0) && r[1] == t.size(1) * t.size(2) &&
                            r[2] == t.size(3) && r[3] == t.size(4);
    switch (op.x_layout) {
      case Layout::kNchw:
        if (r == t.sizes()) {
          alias(op.out[0], op.x);
          return std::nullopt;
        }
        if (t.dim() == 4 && r.size() == 5 && r[0] == t.size(0) && r[1] * r[2] == t.size(1) && r[3] == t.size(2) &&
            r[4] == t.size(3)) {
          alias(op.out[0], op.x, Layout::kGrouped, r[1]);
          return std::nullopt;
        }
        return map_flatten(op);
      case Layout::kGrouped:
        if (!back_to_4d) break;
        alias(op.out[0], op.x);  // viewed back without a shuffle: the input itself
        return std::nullopt;
      case Layout::kShuffled:
        if (!back_to_4d) break;
        add_layer(Op::kChannelShuffle, modelgen::ChannelShuffleAttrs{op.x_groups}, {op.x},
                  layer_name(op.f, "channel_shuffle", nullptr), result);
        return std::nullopt;
      case Layout::kNhwc:
        break;
    }
    return unsupported(layout_problem(op.x_layout));
  }

  // permute(0, 2, 3, 1) of NCHW to channels-last and permute(0, 3, 1, 2) back: no layer.
  std::optional<Unsupported> map_permute(const OpCall& op) {
    std::optional<std::vector<int64_t>> dims = ints_of(op.in.at(1));
    if (!dims || op.x_dim != 4 || dims->size() != 4) return unsupported("a permute other than to or from channels-last");
    for (int64_t& d : *dims)
      if (d < 0) d += 4;
    if (*dims == std::vector<int64_t>{0, 1, 2, 3}) {
      alias(op.out[0], op.x, op.x_layout, op.x_groups);
    } else if (op.x_layout == Layout::kNchw && *dims == std::vector<int64_t>{0, 2, 3, 1}) {
      alias(op.out[0], op.x, Layout::kNhwc);
    } else if (op.x_layout == Layout::kNhwc && *dims == std::vector<int64_t>{0, 3, 1, 2}) {
      alias(op.out[0], op.x, Layout::kNchw);
    } else {
      return unsupported("a permute other than permute(0, 2, 3, 1) of an activation and permute(0, 3, 1, 2) back");
    }
    return std::nullopt;
  }

  // transpose(1, 2) of a channel shuffle's [N, g, C/g, H, W] view: no layer yet.
  std::optional<Unsupported> map_transpose(const OpCall& op) {
    int64_t d0 = op.in.at(1).toInt(), d1 = op.in.at(2).toInt();
    if (d0 < 0) d0 += op.x_dim;
    if (d1 < 0) d1 += op.x_dim;
    if (op.x_layout != Layout::kGrouped || std::min(d0, d1) != 1 || std::max(d0, d1) != 2)
      return unsupported("a transpose other than a channel shuffle's");
    alias(op.out[0], op.x, Layout::kShuffled, op.x_groups);
    return std::nullopt;
  }

  // channel_shuffle(x, groups), as nn.ChannelShuffle runs it.
  std::optional<Unsupported> map_channel_shuffle(const OpCall& op) {
    if (op.x_dim != 4) return unsupported("a channel shuffle whose input is not a 4-d activation");
    add_layer(Op::kChannelShuffle, modelgen::ChannelShuffleAttrs{op.in.at(1).toInt()}, {op.x},
              layer_name(op.f, "channel_shuffle", nullptr), op.result);
    return std::nullopt;
  }

  // flatten, view and reshape to [N, -1]; of what is flat already, nothing.
  std::optional<Unsupported> map_flatten(const OpCall& op) {
    const at::Tensor* result = op.result;
    if (!result) return unsupported("");
    const at::Tensor& t = op.in[0].toTensor();
    const bool to_flat = result->dim() == 2 && result->size(0) == t.size(0) && t.size(0) == kImportBatch;
    if (op.kind == "aten::flatten") {
      int64_t start = op.in.at(1).toInt(), end = op.in.at(2).toInt();
      if (start < 0) start += t.dim();
      if (end < 0) end += t.dim();
      if (start != 1 || end != t.dim() - 1) return unsupported("a flatten other than from dimension 1 to the last");
    }
    if (!to_flat)
      return unsupported("a reshape of " + batch_sizes_str(t.sizes()) + " to " + batch_sizes_str(result->sizes()) +
                         "; NetSpec flattens to [N, -1] only");
    if (op.x_dim == 2) {
      alias(op.out[0], op.x);  // already flat: nothing happens
      return std::nullopt;
    }
    add_layer(Op::kFlatten, std::monostate{}, {op.x}, layer_name(op.f, "flatten", nullptr), result);
    return std::nullopt;
  }

  // ---- the result ----

  int output_of(const std::vector<IValue>& outs) {
    std::vector<IValue> tensors;
    for (const IValue& o : outs) {
      if (o.isTuple()) {
        for (const IValue& e : o.toTupleRef().elements())
          if (e.isTensor()) tensors.push_back(e);
      } else if (o.isTensor()) {
        tensors.push_back(o);
      } else if (o.isTensorList()) {
        for (const at::Tensor& t : o.toTensorVector()) tensors.emplace_back(t);
      }
    }
    if (tensors.size() != 1)
      fail("forward returns " + std::to_string(tensors.size()) + " tensors; a NetSpec network has one output");
    const std::optional<int> l = layer_of(tensors[0]);
    if (!l || *l < 0) fail("forward returns a tensor that no layer made");
    const at::Tensor& t = tensors[0].toTensor();
    if (t.dim() != 2 || t.size(0) != kImportBatch)
      fail("forward returns a tensor of " + batch_sizes_str(t.sizes()) + "; the loss needs [N, classes]");
    return *l;
  }

  modelgen::NetSpec finish(int output, const std::string& name) {
    modelgen::NetSpec spec;
    spec.name = name;
    spec.input = options_.input;
    spec.classes = layers_[static_cast<size_t>(output)].real_sizes ? (*layers_[static_cast<size_t>(output)].real_sizes)[1] : 0;
    for (const ImportedLayer& l : layers_) spec.layers.push_back(l.layer);
    spec.output = layers_[static_cast<size_t>(output)].layer.name;
    modelgen::ShapedNet shapes;
    try {
      shapes = modelgen::infer_shapes(spec, source_);
    } catch (const InputError& e) {
      fail("the imported network is not valid NetSpec: " + e.problem() + " (" + e.where() + ")");
    }
    // Every layer's shape, as NetSpec infers it, is the shape LibTorch gave.
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (!layers_[i].real_sizes) continue;
      const modelgen::TensorShape& s = shapes.layers[i].out;
      std::vector<int64_t> expected = {kImportBatch, s.channels};
      if (!s.flat) expected.insert(expected.end(), {s.height, s.width});
      if (expected != *layers_[i].real_sizes)
        fail("layer \"" + layers_[i].layer.name + "\" gives " + batch_sizes_str(*layers_[i].real_sizes) +
             " in LibTorch but " + batch_sizes_str(expected) + " as NetSpec");
    }
    return spec;
  }

  std::string source_;
  ImportOptions options_;
  std::unordered_map<const c10::TensorImpl*, Activation> acts_;
  std::unordered_map<const c10::TensorImpl*, std::string> param_paths_;
  std::unordered_map<const c10::ivalue::Object*, std::string> object_paths_;
  std::unordered_map<const c10::TensorImpl*, double> noise_;  // stochastic depth's: the survival rate
  std::vector<at::Tensor> alive_;
  std::vector<ImportedLayer> layers_;
  std::set<std::string> used_names_;
  std::vector<std::string> unsupported_;
  bool dry_run_ = false;
};

// "dir/model.pt" -> "model".
std::string stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  return base;
}

}  // namespace

namespace {

// Imports a module that nothing else holds: the walk runs it (BN statistics change) in
// training mode.
modelgen::NetSpec import_owned(torch::jit::Module module, const std::string& source, const ImportOptions& options) {
  const std::string name = options.name.empty() ? stem(source) : options.name;
  try {
    return Importer(source, options).run(std::move(module), name);
  } catch (const c10::Error& e) {
    throw InputError(source + ": " + first_line(e.what_without_backtrace()));
  }
}

}  // namespace

modelgen::NetSpec import_torchscript_module(torch::jit::Module module, const std::string& source,
                                            const ImportOptions& options) {
  return import_owned(module.deepcopy(), source, options);  // the caller's module stays as it is
}

modelgen::NetSpec import_traced_module(torch::nn::AnyModule& module, const std::string& source,
                                       const ImportOptions& options) {
  const std::string name = options.name.empty() ? source : options.name;
  const auto& in = options.input;
  if (in.channels <= 0 || in.height <= 0 || in.width <= 0)
    throw InputError(source + ": the input size must be positive, got " + std::to_string(in.channels) + "x" +
                     std::to_string(in.height) + "x" + std::to_string(in.width));
  torch::nn::Module& m = *module.ptr();
  m.to(c10::Device(c10::kCPU));
  m.train(true);
  // The parameters and buffers are the trace's inputs after the batch, so that the graph
  // refers to them rather than baking them in as constants (which a tensor that requires a
  // gradient cannot be), and the walk knows each by its path.
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  torch::jit::Stack inputs;
  const at::Tensor x = at::randn({kImportBatch, in.channels, in.height, in.width});
  inputs.emplace_back(x);
  for (const auto& p : m.named_parameters(/*recurse=*/true)) tensors.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(/*recurse=*/true))
    if (b.value().defined()) tensors.emplace_back(b.key(), b.value());
  for (const auto& t : tensors) inputs.emplace_back(t.second);
  try {
    std::shared_ptr<Graph> graph;
    {
      c10::NoGradGuard no_grad;
      const auto traced = torch::jit::tracer::trace(
          inputs,
          [&module](torch::jit::Stack s) -> torch::jit::Stack { return {module.forward(s.at(0).toTensor())}; },
          [](const at::Tensor&) { return std::string(); }, /*strict=*/false, /*force_outplace=*/false);
      graph = traced.first->graph;
    }
    return Importer(source, options).run_traced(*graph, x, tensors, name);
  } catch (const c10::Error& e) {
    throw InputError(source + ": " + first_line(e.what_without_backtrace()));
  }
}

modelgen::NetSpec import_torchscript(const std::string& path, const ImportOptions& options) {
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    throw InputError(path + ": cannot open: " + std::strerror(errno));
  }
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, c10::Device(c10::kCPU));
  } catch (const c10::Error& e) {
    throw InputError(path + ": not a TorchScript file LibTorch can load: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw InputError(path + ": not a TorchScript file LibTorch can load: " + first_line(e.what()));
  }
  return import_owned(std::move(module), path, options);
}

}  // namespace p4s::modelgen_torch
