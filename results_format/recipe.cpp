#include "results_format/recipe.hpp"

#include <cmath>
#include <cstdio>
#include <tuple>

#include "common/number_text.hpp"

namespace p4s::results {
namespace {

// Exact, for the context (the value reads back the same).
std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Short, for people.
std::string shown(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A layer name as a name part: '/' separates parts and ':' key from value.
std::string escaped(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '%') out += "%25";
    else if (c == '/') out += "%2F";
    else if (c == ':') out += "%3A";
    else out += c;
  }
  return out;
}

std::optional<std::string> unescaped(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const std::string_view code = text.substr(i + 1, 2);
    if (code == "25") out += '%';
    else if (code == "2F") out += '/';
    else if (code == "3A") out += ':';
    else return std::nullopt;
    i += 2;
  }
  return out;
}

std::optional<double> parse_double(const std::string& text) {
  const std::optional<double> v = parse_finite_number(text);
  if (!v || !std::isfinite(*v) || *v < 0) return std::nullopt;
  return v;
}

}  // namespace

const char* optimizer_name(Optimizer o) {
  switch (o) {
    case Optimizer::kSgd: return "sgd";
    case Optimizer::kSgdNesterov: return "sgd-nesterov";
    case Optimizer::kAdam: return "adam";
    case Optimizer::kAdamW: return "adamw";
  }
  return "?";
}

std::optional<Optimizer> optimizer_from_name(std::string_view name) {
  for (Optimizer o : kOptimizers)
    if (name == optimizer_name(o)) return o;
  return std::nullopt;
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
  }
  return "?";
}

std::optional<Precision> precision_from_name(std::string_view name) {
  for (Precision p : kPrecisions)
    if (name == precision_name(p)) return p;
  return std::nullopt;
}

const char* optimizer_impl_name(OptimizerImpl i) {
  switch (i) {
    case OptimizerImpl::kLibTorch: return "libtorch";
    case OptimizerImpl::kForLoop: return "for-loop";
    case OptimizerImpl::kForeach: return "foreach";
    case OptimizerImpl::kFused: return "fused";
  }
  return "?";
}

std::optional<OptimizerImpl> optimizer_impl_from_name(std::string_view name) {
  for (OptimizerImpl i : kOptimizerImpls)
    if (name == optimizer_impl_name(i)) return i;
  return std::nullopt;
}

bool Recipe::operator==(const Recipe& o) const {
  return optimizer == o.optimizer && lr == o.lr && momentum == o.momentum && weight_decay == o.weight_decay &&
         beta1 == o.beta1 && beta2 == o.beta2 && eps == o.eps && precision == o.precision &&
         train_from == o.train_from && freeze_bn == o.freeze_bn && optimizer_impl == o.optimizer_impl &&
         zero_grad_to_none == o.zero_grad_to_none;
}

bool Recipe::operator<(const Recipe& o) const {
  return std::tie(optimizer, lr, momentum, weight_decay, beta1, beta2, eps, precision, train_from, freeze_bn,
                  optimizer_impl, zero_grad_to_none) <
         std::tie(o.optimizer, o.lr, o.momentum, o.weight_decay, o.beta1, o.beta2, o.eps, o.precision, o.train_from,
                  o.freeze_bn, o.optimizer_impl, o.zero_grad_to_none);
}

std::string Recipe::describe() const {
  std::string s = std::string(optimizer_name(optimizer)) + " lr " + shown(lr);
  if (optimizer == Optimizer::kSgd || optimizer == Optimizer::kSgdNesterov) s += " momentum " + shown(momentum);
  s += " weight decay " + shown(weight_decay) + ", " + precision_name(precision);
  if (!train_from.empty()) s += ", from " + train_from + (freeze_bn ? " (frozen batch norms in eval mode)" : "");
  if (optimizer_impl != OptimizerImpl::kLibTorch) s += std::string(", ") + optimizer_impl_name(optimizer_impl);
  if (zero_grad_to_none) s += ", gradients set to none";
  return s;
}

Recipe default_recipe() { return Recipe{}; }

void use_optimizer(Recipe& r, Optimizer o) {
  auto adam_kind = [](Optimizer x) { return x == Optimizer::kAdam || x == Optimizer::kAdamW; };
  const bool was_adam = adam_kind(r.optimizer);
  r.optimizer = o;
  if (!adam_kind(o)) {
    if (!was_adam) return;
    const Recipe sgd;
    r.lr = sgd.lr;
    r.momentum = sgd.momentum;
    r.weight_decay = sgd.weight_decay;
    return;
  }
  r.lr = 1e-3;
  r.weight_decay = o == Optimizer::kAdamW ? 1e-2 : 0.0;
}

std::vector<std::string> recipe_name_parts(const Recipe& r, const Recipe& base) {
  std::vector<std::string> parts;
  if (r.optimizer != base.optimizer) parts.push_back(std::string("opt:") + optimizer_name(r.optimizer));
  if (r.precision != base.precision) parts.push_back(std::string("prec:") + precision_name(r.precision));
  if (r.train_from != base.train_from) parts.push_back("from:" + escaped(r.train_from));
  if (r.freeze_bn != base.freeze_bn) parts.push_back(std::string("freeze_bn:") + (r.freeze_bn ? "1" : "0"));
  if (r.optimizer_impl != base.optimizer_impl)
    parts.push_back(std::string("impl:") + optimizer_impl_name(r.optimizer_impl));
  if (r.zero_grad_to_none != base.zero_grad_to_none)
    parts.push_back(std::string("zero_grad:") + (r.zero_grad_to_none ? "none" : "zero"));
  return parts;
}

RecipePartResult apply_recipe_part(std::string_view part, Recipe& r) {
  const size_t colon = part.find(':');
  if (colon == std::string_view::npos) return {};
  const std::string_view key = part.substr(0, colon), value = part.substr(colon + 1);
  RecipePartResult out;
  if (key == "opt") {
    out.recognised = true;
    const std::optional<Optimizer> o = optimizer_from_name(value);
    if (!o) out.error = "\"" + std::string(part) + "\": not an optimizer (sgd, sgd-nesterov, adam, adamw)";
    else if (*o != r.optimizer) use_optimizer(r, *o);
  } else if (key == "prec") {
    out.recognised = true;
    const std::optional<Precision> p = precision_from_name(value);
    if (!p) out.error = "\"" + std::string(part) + "\": not a precision (fp32, bf16, fp16)";
    else r.precision = *p;
  } else if (key == "from") {
    out.recognised = true;
    const std::optional<std::string> layer = unescaped(value);
    if (!layer) out.error = "\"" + std::string(part) + "\": a layer name with a bad % escape";
    else r.train_from = *layer;
  } else if (key == "freeze_bn") {
    out.recognised = true;
    if (value != "0" && value != "1") out.error = "\"" + std::string(part) + "\": must be 0 or 1";
    else r.freeze_bn = value == "1";
  } else if (key == "impl") {
    out.recognised = true;
    const std::optional<OptimizerImpl> i = optimizer_impl_from_name(value);
    if (!i) out.error = "\"" + std::string(part) + "\": not an optimizer implementation (libtorch, for-loop, foreach, fused)";
    else r.optimizer_impl = *i;
  } else if (key == "zero_grad") {
    out.recognised = true;
    if (value != "zero" && value != "none") out.error = "\"" + std::string(part) + "\": must be zero or none";
    else r.zero_grad_to_none = value == "none";
  }
  return out;
}

std::map<std::string, std::string> recipe_context(const Recipe& r) {
  return {{"p4s_optimizer", optimizer_name(r.optimizer)},
          {"p4s_lr", number(r.lr)},
          {"p4s_momentum", number(r.momentum)},
          {"p4s_weight_decay", number(r.weight_decay)},
          {"p4s_betas", number(r.beta1) + "," + number(r.beta2)},
          {"p4s_eps", number(r.eps)},
          {"p4s_precision", precision_name(r.precision)},
          {"p4s_train_from", r.train_from},
          {"p4s_freeze_bn", r.freeze_bn ? "1" : "0"},
          {"p4s_optimizer_impl", optimizer_impl_name(r.optimizer_impl)},
          {"p4s_zero_grad", r.zero_grad_to_none ? "none" : "zero"}};
}

std::string recipe_from_context(const std::map<std::string, std::string>& context, Recipe& r) {
  auto get = [&](const char* key) -> const std::string* {
    auto it = context.find(key);
    return it == context.end() ? nullptr : &it->second;
  };
  auto bad = [](const char* key, const std::string& value, const char* want) {
    return std::string("field \"context.") + key + "\": \"" + value + "\" is not " + want;
  };
  if (const std::string* v = get("p4s_optimizer")) {
    const std::optional<Optimizer> o = optimizer_from_name(*v);
    if (!o) return bad("p4s_optimizer", *v, "sgd, sgd-nesterov, adam or adamw");
    // An optimizer's own defaults where the file names the optimizer but not its settings.
    if (*o != r.optimizer) use_optimizer(r, *o);
  }
  for (auto [key, field] : {std::pair<const char*, double*>{"p4s_lr", &r.lr}, {"p4s_momentum", &r.momentum},
                            {"p4s_weight_decay", &r.weight_decay}, {"p4s_eps", &r.eps}})
    if (const std::string* v = get(key)) {
      const std::optional<double> d = parse_double(*v);
      if (!d) return bad(key, *v, "a non-negative number");
      *field = *d;
    }
  if (const std::string* v = get("p4s_betas")) {
    const size_t comma = v->find(',');
    const std::optional<double> b1 = comma == std::string::npos ? std::nullopt : parse_double(v->substr(0, comma));
    const std::optional<double> b2 = comma == std::string::npos ? std::nullopt : parse_double(v->substr(comma + 1));
    if (!b1 || !b2 || *b1 >= 1 || *b2 >= 1) return bad("p4s_betas", *v, "two numbers in [0, 1), as \"0.9,0.999\"");
    r.beta1 = *b1;
    r.beta2 = *b2;
  }
  if (const std::string* v = get("p4s_precision")) {
    const std::optional<Precision> p = precision_from_name(*v);
    if (!p) return bad("p4s_precision", *v, "fp32, bf16 or fp16");
    r.precision = *p;
  }
  if (const std::string* v = get("p4s_train_from")) r.train_from = *v;
  if (const std::string* v = get("p4s_freeze_bn")) {
    if (*v != "0" && *v != "1") return bad("p4s_freeze_bn", *v, "0 or 1");
    r.freeze_bn = *v == "1";
  }
  if (const std::string* v = get("p4s_optimizer_impl")) {
    const std::optional<OptimizerImpl> i = optimizer_impl_from_name(*v);
    if (!i) return bad("p4s_optimizer_impl", *v, "libtorch, for-loop, foreach or fused");
    r.optimizer_impl = *i;
  }
  if (const std::string* v = get("p4s_zero_grad")) {
    if (*v != "zero" && *v != "none") return bad("p4s_zero_grad", *v, "zero or none");
    r.zero_grad_to_none = *v == "none";
  }
  if (r.optimizer == Optimizer::kSgdNesterov && !(r.momentum > 0))
    return "field \"context.p4s_momentum\": nesterov needs a momentum above 0";
  return "";
}

}  // namespace p4s::results
