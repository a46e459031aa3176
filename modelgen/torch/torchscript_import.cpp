#include "modelgen/torch/torchscript_import.hpp"

#include <ATen/core/function.h>
#include <ATen/ops/randn.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/serialization/import.h>

#include <algorithm>
#include <cerrno>
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

// What the walk knows of a tensor of the network's activations.
struct Activation {
  int layer = -1;         // the layer that made it; -1: the network's input
  bool poisoned = false;  // made by (or from) an op outside NetSpec v1
};

// A layer of the imported network and the real tensor it gave, for the final check.
struct ImportedLayer {
  Layer layer;
  std::optional<std::vector<int64_t>> real_sizes;  // absent for layers without a tensor of their own
};

// An op on activations that NetSpec v1 cannot say; `reason` adds why, when the op itself is
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

    if (!unsupported_.empty()) {
      std::string msg = std::to_string(unsupported_.size()) +
                        (unsupported_.size() == 1 ? " op is" : " ops are") + " outside NetSpec v1: ";
      for (size_t i = 0; i < unsupported_.size(); ++i) msg += (i ? "; " : "") + unsupported_[i];
      fail(msg);
    }
    return finish(output_of(outs), name);
  }

 private:
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
  // `overwrite`, all of them (an op outside NetSpec v1 that changed its input in place).
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

  // Adds a layer made from `inputs` whose output is `out` (null when no tensor of its own
  // exists); returns its index. In a dry run, only marks `out` as made outside NetSpec v1.
  int add_layer(Op op, LayerAttrs attrs, const std::vector<int>& inputs, std::string name,
                const at::Tensor* out) {
    if (dry_run_) {
      if (out) mark(IValue(*out), Activation{-1, true});
      return -1;
    }
    ImportedLayer l;
    l.layer.name = unique_name(std::move(name));
    l.layer.op = op;
    l.layer.attrs = std::move(attrs);
    for (int i : inputs)
      l.layer.inputs.push_back(i < 0 ? std::string(modelgen::kInputName) : layers_[static_cast<size_t>(i)].layer.name);
    if (out) l.real_sizes = out->sizes().vec();
    layers_.push_back(std::move(l));
    const int index = static_cast<int>(layers_.size()) - 1;
    if (out) {
      acts_[out->unsafeGetTensorImpl()] = Activation{index, false};
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
    // Downstream of an op outside NetSpec v1, an op is still checked (so that the error lists
    // every such op), but makes no layer.
    dry_run_ = poisoned;
    const std::optional<Unsupported> problem = map_op(f, kind, in, out);
    dry_run_ = false;
    if (problem)
      unsupported_.push_back(kind + location(n, f.module_path) +
                             (problem->reason.empty() ? "" : " (" + problem->reason + ")"));
    if (problem || poisoned)
      for (const IValue& o : out) mark(o, Activation{-1, true}, /*overwrite=*/true);
  }

  // ---- the ops of NetSpec v1 ----

  // The layer behind an activation argument, or nullopt when the argument is not one. In a
  // dry run, an activation made by an op outside NetSpec v1 stands for a layer (-1).
  std::optional<int> layer_of(const IValue& v) const {
    const Activation* a = act_of(v);
    if (!a) return std::nullopt;
    if (a->poisoned) return dry_run_ ? std::optional<int>(-1) : std::nullopt;
    return a->layer;
  }
  // The op's output is its input, unchanged (a flatten of what is flat already).
  void alias(const IValue& out, int layer) { mark(out, Activation{layer, dry_run_}); }
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
  };
  using OpMapper = std::optional<Unsupported> (Importer::*)(const OpCall&);

  // The mapper of each op kind NetSpec v1 can say, by family.
  static const std::unordered_map<std::string_view, OpMapper>& op_mappers() {
    static const std::unordered_map<std::string_view, OpMapper> mappers = {
        // convolution and normalisation
        {"aten::_convolution", &Importer::map_convolution},
        {"aten::convolution", &Importer::map_convolution},
        {"aten::conv2d", &Importer::map_convolution},
        {"aten::batch_norm", &Importer::map_batch_norm},
        // matrix products
        {"aten::linear", &Importer::map_linear},
        {"aten::addmm", &Importer::map_linear},
        {"aten::matmul", &Importer::map_linear},
        {"aten::mm", &Importer::map_linear},
        // activations and dropout
        {"aten::relu", &Importer::map_relu},
        {"aten::relu_", &Importer::map_relu},
        {"aten::relu6", &Importer::map_relu6},
        {"aten::relu6_", &Importer::map_relu6},
        {"aten::hardtanh", &Importer::map_relu6},
        {"aten::hardtanh_", &Importer::map_relu6},
        {"aten::dropout", &Importer::map_dropout},
        {"aten::dropout_", &Importer::map_dropout},
        // pooling
        {"aten::max_pool2d", &Importer::map_pool},
        {"aten::avg_pool2d", &Importer::map_pool},
        {"aten::adaptive_avg_pool2d", &Importer::map_adaptive_pool},
        {"aten::mean", &Importer::map_mean},
        // merging branches
        {"aten::add", &Importer::map_add},
        {"aten::add_", &Importer::map_add},
        {"aten::cat", &Importer::map_cat},
        // shape ops
        {"aten::flatten", &Importer::map_flatten},
        {"aten::view", &Importer::map_flatten},
        {"aten::reshape", &Importer::map_flatten},
    };
    return mappers;
  }

  // Maps one op on activations to layers; returns why it cannot be, if it cannot.
  std::optional<Unsupported> map_op(const Frame& f, const std::string& kind, const std::vector<IValue>& in,
                                    const std::vector<IValue>& out) {
    const std::optional<int> first = !in.empty() ? layer_of(in[0]) : std::nullopt;
    const OpCall op{f,
                    kind,
                    in,
                    out,
                    !out.empty() && out[0].isTensor() ? &out[0].toTensor() : nullptr,
                    first.has_value(),
                    first.value_or(-1),
                    first ? in[0].toTensor().dim() : -1};
    // Every op but these takes an activation first.
    const bool on_x = kind != "aten::addmm" && kind != "aten::cat" && kind != "aten::add" && kind != "aten::add_";
    if (on_x && !op.has_x) return unsupported("its first argument is not an activation");
    const auto mapper = op_mappers().find(kind);
    if (mapper == op_mappers().end()) return unsupported("");
    return (this->*mapper->second)(op);
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

  // ---- matrix products ----

  // linear, addmm, matmul and mm of a flat activation and a 2-d parameter: a linear layer.
  std::optional<Unsupported> map_linear(const OpCall& op) {
    const std::vector<IValue>& in = op.in;
    // linear(x, W, b): W [out, in]; addmm(b, x, Wt, beta, alpha) and matmul(x, Wt): Wt [in, out].
    const bool addmm = op.kind == "aten::addmm";
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

  // ---- activations and dropout ----

  // relu and relu_.
  std::optional<Unsupported> map_relu(const OpCall& op) {
    add_layer(Op::kRelu, modelgen::ActivationAttrs{op.kind == "aten::relu_"}, {op.x}, layer_name(op.f, "relu", nullptr),
              op.result);
    return std::nullopt;
  }

  // relu6, and hardtanh over [0, 6], in place or not.
  std::optional<Unsupported> map_relu6(const OpCall& op) {
    if (op.kind == "aten::hardtanh" || op.kind == "aten::hardtanh_")
      if (op.in.at(1).toScalar().toDouble() != 0.0 || op.in.at(2).toScalar().toDouble() != 6.0)
        return unsupported("hardtanh over a range other than [0, 6]");
    const bool inplace = op.kind.back() == '_';
    add_layer(Op::kRelu6, modelgen::ActivationAttrs{inplace}, {op.x}, layer_name(op.f, "relu6", nullptr), op.result);
    return std::nullopt;
  }

  // dropout and dropout_.
  std::optional<Unsupported> map_dropout(const OpCall& op) {
    add_layer(Op::kDropout, modelgen::DropoutAttrs{op.in.at(1).toDouble()}, {op.x},
              layer_name(op.f, "dropout", nullptr), op.result);
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

  // ---- shape ops ----

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
                         "; NetSpec v1 flattens to [N, -1] only");
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
