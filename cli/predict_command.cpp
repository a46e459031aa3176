// `p4s predict`: a model's predictions for networks (NetSpec files or built-in names) at batch
// sizes; with --budget, the largest batch that fits in a memory budget and the networks that
// fit ranked by predicted latency.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "modelgen/netspec_io.hpp"
#include "modelgen/network_library.hpp"
#include "common/number_text.hpp"
#include "predictors/model_file.hpp"
#include "predictors/recipe_coverage.hpp"
#include "sim/network_analysis.hpp"
#include "sim/predictable.hpp"

namespace p4s::cli {
namespace {

constexpr const char* kUsage =
    "usage: p4s predict --model MODEL.json --batch N[,N...] [options] NET...\n"
    "\n"
    "NET: a NetSpec file (a path ending in .json) or a built-in network name (p4s nets list).\n"
    "\n"
    "  --model FILE     a model written by p4s fit\n"
    "  --batch N,...    batch sizes to predict\n"
    "  --json           one JSON object for scripts instead of a table\n"
    "  --netspecs DIR   a folder of NetSpec files whose networks NET may name (repeatable)\n"
    "  --budget BYTES   a memory budget (K, M, G, T suffixes: powers of 1024): the largest batch\n"
    "                   of each network that fits, and the networks that fit at the first\n"
    "                   --batch ranked by predicted latency. Compared with what the step asks\n"
    "                   of mem_reserved when the model predicts it, else mem_used, else\n"
    "                   mem_alloc (past the most the device reports, where a model stops).\n"
    "  --peak           also where the simulated step peaks (phase and layer) and what is live\n"
    "                   then: what the step began with (weights, gradients, momentum, the\n"
    "                   batch), activations the forward pass left, the backward pass's\n"
    "                   gradients and temporaries; before the model's fitted terms (p4s\n"
    "                   models: perf4sight's simulates nothing)\n"
    "\n"
    "The training recipe predicted (default: SGD with momentum 0.9 and weight decay 5e-4, fp32,\n"
    "every layer trained):\n"
    "  --optimizer NAME   sgd, sgd-nesterov, adam or adamw (each with its usual settings)\n"
    "  --momentum X       SGD's momentum (0: no momentum buffer)\n"
    "  --weight-decay X   SGD's and Adam's weight decay, AdamW's decoupled one\n"
    "  --precision NAME   fp32, or bf16 / fp16 autocast over forward and loss (memory\n"
    "                     simulated; latency from the float32 terms, with a warning)\n"
    "  --train-from LAYER the first layer that trains (a NetSpec layer name): the layers\n"
    "                     before it are frozen\n"
    "  --freeze-bn        the frozen layers' batch norms in eval mode\n"
    "  --optimizer-impl I libtorch (LibTorch's C++ optimizers, what bench runs), or PyTorch's\n"
    "                     Python ones: for-loop (their default on the CPU), foreach (on\n"
    "                     CUDA), fused\n"
    "  --zero-grad MODE   zero (in place, after the forward pass: bench's step) or none\n"
    "                     (set to none before it: PyTorch 2.x's zero_grad in a Python loop)\n"
    "A recipe the model's data did not have is predicted with a warning naming what is\n"
    "extrapolated (on stderr, and under \"warnings\" with --json); a perf4sight model, whose\n"
    "features know no recipe, refuses one.\n";

constexpr int64_t kMaxBatch = 1 << 20;

std::string human(results::Target t, double v) {
  char buf[32];
  if (t == results::Target::kLatencyMs)
    std::snprintf(buf, sizeof buf, "%.2f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v / (1024.0 * 1024.0));
  return buf;
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Where the simulated step peaks and what is live then, for --peak.
nlohmann::ordered_json peak_json(const sim::MemorySimResult& sim, const modelgen::NetSpec& spec) {
  nlohmann::ordered_json j;
  j["bytes"] = sim.peak_bytes;
  j["phase"] = sim::phase_name(sim.peak_phase);
  if (sim.peak_layer >= 0)
    j["layer"] = spec.layers[static_cast<size_t>(sim.peak_layer)].name;
  else
    j["layer"] = nullptr;  // the loss or the optimizer
  nlohmann::ordered_json by;
  for (size_t i = 0; i < sim::kPhaseCount; ++i)
    by[i == 0 ? "before_step" : sim::phase_name(static_cast<sim::Phase>(i))] = sim.peak_by_phase[i];
  j["live_by_phase"] = by;
  return j;
}

// The largest batch whose predicted memory demand is within the budget (0: not even one
// sample). Searched up to kMaxBatch, and no further than the network can be predicted.
int64_t largest_batch(const predictors::Predictor& predict, const modelgen::ResolvedNet& net, results::Target t,
                      const results::Recipe& recipe, double budget) {
  const int64_t limit = std::min(kMaxBatch, sim::max_predictable_batch(net.shapes));
  auto fits = [&](int64_t b) { return *predict.demand(net, b, t, recipe) <= budget; };
  if (limit < 1 || !fits(1)) return 0;
  int64_t lo = 1, hi = 2;
  while (hi <= limit && fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (hi > limit) {
    if (fits(limit)) return limit;
    hi = limit;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

// The networks named on the command line: NetSpec files (paths ending in .json), else names
// the library resolves (built in, or in --netspecs folders).
std::vector<const modelgen::ResolvedNet*> resolve_networks(modelgen::NetworkLibrary& library,
                                                          const std::vector<std::string>& names) {
  std::vector<const modelgen::ResolvedNet*> nets;
  for (const std::string& n : names) {
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0)
      nets.push_back(&library.add(modelgen::read_netspec(n), n));
    else
      nets.push_back(&library.get(n));
  }
  return nets;
}

// Batches whose tensors would be beyond any device are refused, not predicted.
void refuse_unpredictable_batches(const std::vector<const modelgen::ResolvedNet*>& nets,
                                  const std::vector<int64_t>& batches) {
  const int64_t largest_asked = *std::max_element(batches.begin(), batches.end());
  for (const modelgen::ResolvedNet* net : nets) {
    const int64_t most = sim::max_predictable_batch(net->shapes);
    if (largest_asked <= most) continue;
    char bytes[32];
    std::snprintf(bytes, sizeof bytes, "%.3g", sim::step_bytes_bound(net->shapes, largest_asked));
    throw InputError(net->source + ": network \"" + net->spec.name + "\": --batch " + std::to_string(largest_asked) +
                     ": its tensors could take up to " + bytes + " bytes, beyond the 2^50 that predictions reach" +
                     (most > 0 ? " (the largest batch is " + std::to_string(most) + ")" : " even at batch 1"));
  }
}

// A recipe as `--json` shows it: the keys of the flags that choose it.
nlohmann::ordered_json recipe_json(const results::Recipe& r) {
  nlohmann::ordered_json j;
  j["optimizer"] = results::optimizer_name(r.optimizer);
  j["momentum"] = r.momentum;
  j["weight_decay"] = r.weight_decay;
  j["precision"] = results::precision_name(r.precision);
  j["train_from"] = r.train_from;
  j["freeze_bn"] = r.freeze_bn;
  j["optimizer_impl"] = results::optimizer_impl_name(r.optimizer_impl);
  j["zero_grad"] = r.zero_grad_to_none ? "none" : "zero";
  return j;
}

double parse_setting(const std::string& text, const std::string& what) {
  const std::optional<double> v = parse_finite_number(text);
  if (!v || *v < 0) throw InputError(what + ": \"" + text + "\" is not a non-negative number");
  return *v;
}

// The recipe the flags ask for.
results::Recipe recipe_from_flags(const Arguments& a) {
  results::Recipe r = results::default_recipe();
  if (a.has("--optimizer")) {
    const std::optional<results::Optimizer> o = results::optimizer_from_name(a.value("--optimizer"));
    if (!o) throw InputError("--optimizer: \"" + a.value("--optimizer") + "\" is not sgd, sgd-nesterov, adam or adamw");
    if (*o != r.optimizer) results::use_optimizer(r, *o);
  }
  if (a.has("--momentum")) r.momentum = parse_setting(a.value("--momentum"), "--momentum");
  if (a.has("--weight-decay")) r.weight_decay = parse_setting(a.value("--weight-decay"), "--weight-decay");
  if (r.optimizer == results::Optimizer::kSgdNesterov && !(r.momentum > 0))
    throw InputError("--momentum: sgd-nesterov needs a momentum above 0");
  if (a.has("--precision")) {
    const std::optional<results::Precision> p = results::precision_from_name(a.value("--precision"));
    if (!p) throw InputError("--precision: \"" + a.value("--precision") + "\" is not fp32, bf16 or fp16");
    r.precision = *p;
  }
  if (a.has("--train-from")) {
    r.train_from = a.value("--train-from");
    if (r.train_from.empty()) throw InputError("--train-from: the layer name is empty");
  }
  if (a.has("--freeze-bn")) {
    if (r.train_from.empty()) throw InputError("--freeze-bn: needs --train-from (no layer is frozen without it)");
    r.freeze_bn = true;
  }
  if (a.has("--optimizer-impl")) {
    const std::optional<results::OptimizerImpl> i = results::optimizer_impl_from_name(a.value("--optimizer-impl"));
    if (!i)
      throw InputError("--optimizer-impl: \"" + a.value("--optimizer-impl") +
                       "\" is not libtorch, for-loop, foreach or fused");
    r.optimizer_impl = *i;
  }
  if (a.has("--zero-grad")) {
    const std::string& v = a.value("--zero-grad");
    if (v != "zero" && v != "none") throw InputError("--zero-grad: \"" + v + "\" is not zero or none");
    r.zero_grad_to_none = v == "none";
  }
  return r;
}

// Refuses a recipe no network can be predicted with: a --train-from layer a network lacks, a
// model that cannot follow it.
void check_recipe(const results::Recipe& r, const predictors::ModelFile& model, const std::string& model_path,
                  const std::vector<const modelgen::ResolvedNet*>& nets) {
  for (const modelgen::ResolvedNet* net : nets) {
    if (r.train_from.empty()) break;
    const auto& layers = net->spec.layers;
    if (std::none_of(layers.begin(), layers.end(), [&](const modelgen::Layer& l) { return l.name == r.train_from; }))
      throw InputError(net->source + ": network \"" + net->spec.name + "\": --train-from \"" + r.train_from +
                       "\" names no layer of the network");
  }
  const predictors::RecipeCoverage c = predictors::recipe_coverage(model, r);
  if (!c.refusal.empty()) throw InputError(model_path + ": " + c.refusal);
}

// One prediction per network and batch, as `p4s predict --json` writes them; with `peak`, the
// simulated step's peak too. `fits` gets a verdict per prediction where the model knows the
// device's capacity.
nlohmann::ordered_json predictions_json(const std::string& model_path, const predictors::Predictor& predict,
                                        const std::vector<const modelgen::ResolvedNet*>& nets,
                                        const std::vector<int64_t>& batches, const results::Recipe& recipe,
                                        bool peak, std::vector<bool>& fits) {
  const std::optional<predictors::Capacity> capacity = predict.capacity();
  sim::AnalysisCache simulated;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const modelgen::ResolvedNet* net : nets)
    for (int64_t b : batches) {
      nlohmann::ordered_json p;
      p["net"] = net->spec.name;
      p["batch"] = b;
      if (recipe != results::default_recipe()) p["recipe"] = recipe_json(recipe);
      for (results::Target t : predict.targets()) {
        const double v = *predict.predict(*net, b, t, recipe);
        if (!std::isfinite(v) || v > 1e30)  // finite coefficients, but far out of any range
          throw InputError(model_path + ": its " + results::target_name(t) + " for " + net->spec.name +
                           " at batch " + std::to_string(b) + " is not a finite number: coefficients out of range");
        if (t == results::Target::kLatencyMs)
          p[results::target_name(t)] = v;
        else
          p[results::target_name(t)] = static_cast<int64_t>(std::llround(v));
      }
      if (peak) p["peak"] = peak_json(simulated.get(*net, *predict.runtime(), recipe).simulate(b), net->spec);
      out.push_back(p);
      if (capacity) fits.push_back(*predict.demand(*net, b, capacity->target, recipe) <= capacity->bytes);
    }
  return out;
}

// The memory target a budget is compared with: the closest to what the device runs out of.
std::optional<results::Target> budget_target_of(const std::vector<results::Target>& targets) {
  for (results::Target t : {results::Target::kMemReserved, results::Target::kMemUsed, results::Target::kMemAlloc})
    if (std::find(targets.begin(), targets.end(), t) != targets.end()) return t;
  return std::nullopt;
}

// --budget: each network's largest batch within the budget, and the networks that fit at the
// first batch ranked by predicted latency (when the model predicts it).
nlohmann::ordered_json budget_json(const predictors::Predictor& predict,
                                   const std::vector<const modelgen::ResolvedNet*>& nets, int64_t ranking_batch,
                                   const results::Recipe& recipe, double budget, results::Target target) {
  const bool has_latency = predict.has(results::Target::kLatencyMs);
  nlohmann::ordered_json bj;
  bj["bytes"] = budget;
  bj["target"] = results::target_name(target);
  bj["largest_batch"] = nlohmann::ordered_json::array();
  std::vector<std::pair<double, const modelgen::ResolvedNet*>> ranked;
  for (const modelgen::ResolvedNet* net : nets) {
    const int64_t lb = largest_batch(predict, *net, target, recipe, budget);
    bj["largest_batch"].push_back({{"net", net->spec.name}, {"batch", lb}});
    if (lb >= ranking_batch && has_latency)
      ranked.emplace_back(*predict.predict(*net, ranking_batch, results::Target::kLatencyMs, recipe), net);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  bj["ranking_batch"] = ranking_batch;
  bj["ranking"] = nlohmann::ordered_json::array();
  for (const auto& [lat, net] : ranked) bj["ranking"].push_back({{"net", net->spec.name}, {"latency_ms", lat}});
  return bj;
}

// The predictions as a table for people: memory in MiB, latency in ms; the capacity and the
// ceilings the predictions reached below it.
void print_predictions(const nlohmann::ordered_json& predictions, const predictors::Predictor& predict,
                       const std::vector<bool>& fits) {
  const std::vector<results::Target> targets = predict.targets();
  const std::optional<predictors::Capacity> capacity = predict.capacity();
  std::printf("%-28s %7s", "net", "batch");
  for (results::Target t : targets)
    std::printf(" %14s", (std::string(results::target_name(t)) + (t == results::Target::kLatencyMs ? "" : " MiB")).c_str());
  if (capacity) std::printf("  fits?");
  std::printf("\n");
  for (size_t i = 0; i < predictions.size(); ++i) {
    const auto& p = predictions[i];
    std::printf("%-28s %7lld", p["net"].get<std::string>().c_str(), static_cast<long long>(p["batch"].get<int64_t>()));
    for (results::Target t : targets) std::printf(" %14s", human(t, p[results::target_name(t)].get<double>()).c_str());
    if (capacity) std::printf("  %s", fits[i] ? "yes" : "no");
    std::printf("\n");
  }
  if (capacity)
    std::printf("(fits: predicted %s demand at most %.0f MiB, learned from the steps that ran out of memory)\n",
                results::target_name(capacity->target), capacity->bytes / (1024.0 * 1024.0));
  // A prediction at a target's ceiling is what the device would report, not what the step asks for.
  for (results::Target t : targets) {
    const std::optional<double> most = predict.ceiling(t);
    if (!most) continue;
    const char* name = results::target_name(t);
    const double ceiling = *most - 0.5;  // the predictions are whole bytes
    if (std::any_of(predictions.begin(), predictions.end(),
                    [&](const auto& p) { return p[name].template get<double>() >= ceiling; }))
      std::printf("(%s: at most %.0f MiB, the most the device reported: past its limit a step reports no more)\n",
                  name, *most / (1024.0 * 1024.0));
  }
}

void print_peaks(const nlohmann::ordered_json& predictions) {
  std::printf("\nwhere the simulated step peaks, and what is live then (MiB, before the fitted terms):\n");
  std::printf("%-28s %7s %10s  %-9s %-24s %11s %10s %10s %10s\n", "net", "batch", "peak", "phase", "layer",
              "before step", "forward", "backward", "other");
  for (const auto& p : predictions) {
    const auto& k = p["peak"];
    const auto& by = k["live_by_phase"];
    const int64_t other = by["loss"].get<int64_t>() + by["optimizer"].get<int64_t>();
    std::printf("%-28s %7lld %10.1f  %-9s %-24s %11.1f %10.1f %10.1f %10.1f\n", p["net"].get<std::string>().c_str(),
                static_cast<long long>(p["batch"].get<int64_t>()), mib(k["bytes"].get<int64_t>()),
                k["phase"].get<std::string>().c_str(), k["layer"].is_null() ? "-" : k["layer"].get<std::string>().c_str(),
                mib(by["before_step"].get<int64_t>()), mib(by["forward"].get<int64_t>()),
                mib(by["backward"].get<int64_t>()), mib(other));
  }
}

void print_budget(const nlohmann::ordered_json& bj, bool has_latency) {
  std::printf("\nbudget %.0f MiB on predicted %s:\n", bj["bytes"].get<double>() / (1024.0 * 1024.0),
              bj["target"].get<std::string>().c_str());
  for (const auto& lb : bj["largest_batch"])
    std::printf("  %-28s largest batch that fits: %lld\n", lb["net"].get<std::string>().c_str(),
                static_cast<long long>(lb["batch"].get<int64_t>()));
  if (!has_latency) return;
  std::printf("fitting at batch %lld, fastest first:\n", static_cast<long long>(bj["ranking_batch"].get<int64_t>()));
  int rank = 0;
  for (const auto& r : bj["ranking"])
    std::printf("  %d. %-28s %.2f ms\n", ++rank, r["net"].get<std::string>().c_str(), r["latency_ms"].get<double>());
  if (bj["ranking"].empty()) std::printf("  none\n");
}

}  // namespace

int run_predict(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
  const Arguments a(args, {{"--model"}, {"--batch"}, {"--json", false}, {"--netspecs", true, true}, {"--budget"}, {"--peak", false},
                           {"--optimizer"}, {"--momentum"}, {"--weight-decay"}, {"--precision"}, {"--train-from"},
                           {"--freeze-bn", false}, {"--optimizer-impl"}, {"--zero-grad"}});
  const std::vector<int64_t> batches = parse_int_list(a.value("--batch"), "--batch", kMaxBatch);
  if (a.positionals().empty()) throw InputError("no network given (see 'p4s predict --help')");
  const bool has_budget = a.has("--budget");
  const double budget = has_budget ? parse_bytes(a.value("--budget"), "--budget") : 0.0;
  const bool peak = a.has("--peak");

  const predictors::ModelFile model = predictors::read_model(a.value("--model"));
  const predictors::Predictor& predict = *model.predictor;
  const results::Recipe recipe = recipe_from_flags(a);
  if (peak && !predict.runtime())
    throw InputError("--peak: " + a.value("--model") + " is a " + predictors::method_name(model.method()) +
                     " model, which simulates no step");
  const std::optional<results::Target> budget_target = budget_target_of(predict.targets());
  if (has_budget && !budget_target) throw InputError("--budget: the model predicts no memory target");
  modelgen::NetworkLibrary library(a.values("--netspecs"));
  const std::vector<const modelgen::ResolvedNet*> nets = resolve_networks(library, a.positionals());
  refuse_unpredictable_batches(nets, batches);
  check_recipe(recipe, model, a.value("--model"), nets);
  const std::vector<std::string> warnings = predictors::recipe_coverage(model, recipe).warnings;

  std::vector<bool> fits;
  nlohmann::ordered_json out;
  out["predictions"] = predictions_json(a.value("--model"), predict, nets, batches, recipe, peak, fits);
  if (has_budget) out["budget"] = budget_json(predict, nets, batches.front(), recipe, budget, *budget_target);
  if (!warnings.empty()) out["warnings"] = warnings;
  for (const std::string& w : warnings) std::fprintf(stderr, "p4s predict: warning: %s\n", w.c_str());
  if (a.has("--json")) {
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  if (recipe != results::default_recipe()) std::printf("recipe: %s\n", recipe.describe().c_str());
  print_predictions(out["predictions"], predict, fits);
  if (peak) print_peaks(out["predictions"]);
  if (has_budget) print_budget(out["budget"], predict.has(results::Target::kLatencyMs));
  return kExitOk;
}

}  // namespace p4s::cli
