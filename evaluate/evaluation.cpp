#include "evaluate/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>

#include "common/input_error.hpp"
#include "evaluate/held_out_layers.hpp"
#include "predictors/predictor.hpp"
#include "sim/network_analysis.hpp"

namespace p4s::evaluate {
namespace {

void add_points(MethodEvaluation& me, const std::vector<const predictors::Observation*>& test,
                const predictors::Predictor& p) {
  const std::optional<predictors::Capacity> capacity = p.capacity();
  for (const predictors::Observation* o : test) {
    for (results::Target t : results::kAllTargets) {
      if (!o->fits || !o->values.get(t) || *o->values.get(t) <= 0) continue;
      const std::optional<double> v = p.predict(*o->net, o->batch, t, o->recipe);
      if (!v) continue;
      me.targets[t].points.push_back(
          PredictedPoint{o->net->spec.name, o->family, o->batch, *o->values.get(t), *v, recipe_label(o->recipe)});
    }
    if (capacity) {
      const std::optional<double> d = p.demand(*o->net, o->batch, capacity->target, o->recipe);
      if (!d) continue;
      const bool predicted_fits = *d <= capacity->bytes;
      ++me.fits.n;
      if (predicted_fits == o->fits) ++me.fits.correct;
      else if (predicted_fits) ++me.fits.missed_oom;
      else ++me.fits.false_oom;
    }
  }
}

Metrics metrics_of_points(const std::vector<PredictedPoint>& points) {
  std::vector<double> p, m;
  for (const PredictedPoint& pt : points) {
    p.push_back(pt.predicted);
    m.push_back(pt.measured);
  }
  return metrics_of(p, m);
}

void summarise(std::map<results::Target, TargetEvaluation>& targets) {
  for (auto& [t, te] : targets) {
    std::map<std::string, std::vector<PredictedPoint>> by_family;
    for (const PredictedPoint& pt : te.points) by_family[pt.family].push_back(pt);
    te.overall = metrics_of_points(te.points);
    te.level_removed = level_removed(te.points);
    for (const auto& [f, pts] : by_family) {
      te.by_family[f] = metrics_of_points(pts);
      te.level_removed_by_family[f] = level_removed(pts);
    }
    std::map<std::string, std::vector<PredictedPoint>> by_recipe;
    for (const PredictedPoint& pt : te.points) by_recipe[pt.recipe].push_back(pt);
    if (by_recipe.size() > 1)
      for (const auto& [r, pts] : by_recipe) te.by_recipe[r] = metrics_of_points(pts);
  }
}

// The steps of one network that ran, in the order the observations give them.
struct NetSteps {
  std::string family;
  std::vector<const predictors::Observation*> steps;
};

}  // namespace

Metrics metrics_of(const std::vector<double>& predicted, const std::vector<double>& measured) {
  Metrics r;
  r.n = measured.size();
  if (r.n == 0) return r;
  double sum = 0, mean = 0;
  size_t within = 0;
  for (size_t i = 0; i < r.n; ++i) {
    const double e = 100.0 * std::abs(predicted[i] - measured[i]) / measured[i];
    sum += e;
    r.worst = std::max(r.worst, e);
    within += e <= 10.0;
    mean += measured[i];
  }
  mean /= static_cast<double>(r.n);
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < r.n; ++i) {
    ss_res += (measured[i] - predicted[i]) * (measured[i] - predicted[i]);
    ss_tot += (measured[i] - mean) * (measured[i] - mean);
  }
  r.mape = sum / static_cast<double>(r.n);
  r.within10 = 100.0 * static_cast<double>(within) / static_cast<double>(r.n);
  r.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0.0;
  return r;
}

std::string recipe_label(const results::Recipe& r) {
  std::vector<std::string> parts;
  for (const std::string& part : results::recipe_name_parts(r, results::default_recipe()))
    parts.push_back(part.rfind("from:", 0) == 0 ? "from:*" : part);
  // The settings where they are not the optimizer's usual ones (names never carry them).
  results::Recipe usual;
  results::use_optimizer(usual, r.optimizer);
  auto setting = [&](const char* key, double v, double u) {
    if (v == u) return;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s:%g", key, v);
    parts.emplace_back(buf);
  };
  setting("lr", r.lr, usual.lr);
  if (r.optimizer == results::Optimizer::kSgd || r.optimizer == results::Optimizer::kSgdNesterov)
    setting("momentum", r.momentum, usual.momentum);
  setting("weight_decay", r.weight_decay, usual.weight_decay);
  if (r.optimizer == results::Optimizer::kAdam || r.optimizer == results::Optimizer::kAdamW) {
    setting("beta1", r.beta1, usual.beta1);
    setting("beta2", r.beta2, usual.beta2);
    setting("eps", r.eps, usual.eps);
  }
  std::string label;
  for (const std::string& part : parts) label += (label.empty() ? "" : "/") + part;
  return label.empty() ? "default" : label;
}

Metrics level_removed(const std::vector<PredictedPoint>& points) {
  std::map<std::pair<std::string, std::string>, std::vector<const PredictedPoint*>> by_net;
  for (const PredictedPoint& pt : points) by_net[{pt.net, pt.recipe}].push_back(&pt);
  std::vector<double> p, m;
  for (const auto& [net, pts] : by_net) {
    if (pts.size() < 2) continue;
    std::vector<double> ratios;
    for (const PredictedPoint* pt : pts) ratios.push_back(pt->predicted / pt->measured);
    std::sort(ratios.begin(), ratios.end());
    const size_t n = ratios.size();
    const double level = n % 2 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
    if (!(level > 0)) continue;  // a network predicted at 0: no level to divide out
    for (const PredictedPoint* pt : pts) {
      p.push_back(pt->predicted / level);
      m.push_back(pt->measured);
    }
  }
  return metrics_of(p, m);
}

std::map<results::Target, TargetEvaluation> neighbour_interpolation(const std::vector<predictors::Observation>& observations) {
  std::map<std::pair<std::string, std::string>, NetSteps> nets;  // by network and recipe
  for (const predictors::Observation& o : observations) {
    if (!o.fits) continue;
    NetSteps& n = nets[{o.net->spec.name, recipe_label(o.recipe)}];
    n.family = o.family;
    n.steps.push_back(&o);
  }
  std::map<results::Target, TargetEvaluation> out;
  for (const auto& [key, n] : nets)
    for (results::Target t : results::kAllTargets) {
      std::map<int64_t, double> curve;  // batch -> measurement; emplace keeps the first
      for (const predictors::Observation* o : n.steps) {
        const std::optional<double> v = o->values.get(t);
        if (v && *v > 0) curve.emplace(o->batch, *v);
      }
      if (curve.size() < 3) continue;
      auto lo = curve.begin(), mid = std::next(lo), hi = std::next(mid);
      for (; hi != curve.end(); ++lo, ++mid, ++hi) {
        const double x0 = static_cast<double>(lo->first), x = static_cast<double>(mid->first),
                     x1 = static_cast<double>(hi->first);
        const double interpolated = lo->second + (hi->second - lo->second) * (x - x0) / (x1 - x0);
        out[t].points.push_back(PredictedPoint{key.first, n.family, mid->first, mid->second, interpolated, key.second});
      }
    }
  summarise(out);
  return out;
}

Evaluation evaluate_leave_one_family_out(const std::vector<predictors::Observation>& observations,
                                         const std::vector<results::LayerResult>& layer_cases,
                                         const std::vector<sim::DeviceRuntime>& candidates,
                                         const EvaluationOptions& options) {
  Evaluation ev;
  ev.families = predictors::families_of(observations);
  if (ev.families.size() < 2)
    throw InputError("leave-one-family-out needs networks of two or more families, got " +
                                std::to_string(ev.families.size()));
  ev.reference = neighbour_interpolation(observations);
  std::vector<predictors::Method> methods{predictors::Method::kP4s};
  if (options.baseline) methods.push_back(predictors::Method::kPerf4sight);
  std::vector<MethodEvaluation> evaluated;
  for (predictors::Method m : methods) evaluated.push_back(MethodEvaluation{m, {}, {}});
  sim::AnalysisCache cache;
  ev.layer_cases = layer_cases.size();
  for (const std::string& held_out : ev.families) {
    predictors::TrainingSet data;
    std::vector<const predictors::Observation*> test;
    std::vector<const modelgen::ResolvedNet*> held_out_nets;
    for (const predictors::Observation& o : observations) {
      (o.family == held_out ? test : data.steps).push_back(&o);
      if (o.family == held_out && std::find(held_out_nets.begin(), held_out_nets.end(), o.net) == held_out_nets.end())
        held_out_nets.push_back(o.net);
    }
    data.layer_cases = layer_cases_outside(layer_cases, held_out_nets);
    if (!layer_cases.empty()) ev.layer_cases_left_out[held_out] = layer_cases.size() - data.layer_cases.size();
    data.runtimes = candidates;
    data.seed = options.seed;
    data.cache = &cache;
    // Every method fits first, so that a fold is evaluated for all or for none.
    std::vector<std::unique_ptr<predictors::Predictor>> fitted;
    try {
      for (predictors::Method m : methods) fitted.push_back(predictors::train_predictor(m, data));
    } catch (const InputError& e) {
      ev.not_evaluated[held_out] = e.what();
      continue;
    }
    for (size_t i = 0; i < fitted.size(); ++i) add_points(evaluated[i], test, *fitted[i]);
  }
  for (MethodEvaluation& me : evaluated) {
    summarise(me.targets);
    ev.methods.push_back(std::move(me));
  }
  return ev;
}

Evaluation evaluate_fitted_models(const std::vector<predictors::Observation>& observations,
                                  const std::vector<const predictors::ModelFile*>& models) {
  if (models.empty()) throw InputError("no model to evaluate");
  std::vector<const predictors::ModelFile*> ordered = models;
  std::stable_sort(ordered.begin(), ordered.end(), [](const predictors::ModelFile* a, const predictors::ModelFile* b) {
    return a->method() < b->method();  // the project's method first
  });
  Evaluation ev;
  ev.kind = EvaluationKind::kFittedModels;
  ev.families = predictors::families_of(observations);
  ev.reference = neighbour_interpolation(observations);
  std::vector<const predictors::Observation*> all;
  for (const predictors::Observation& o : observations) all.push_back(&o);
  for (const predictors::ModelFile* mf : ordered) {
    if (!mf->predictor) throw std::invalid_argument("evaluate_fitted_models: a model file without its predictor");
    for (const MethodEvaluation& seen : ev.methods)
      if (seen.method == mf->method())
        throw InputError(std::string("two models of method \"") + predictors::method_name(mf->method()) +
                         "\": give one per method");
    MethodEvaluation me{mf->method(), {}, {}};
    add_points(me, all, *mf->predictor);
    summarise(me.targets);
    ev.methods.push_back(std::move(me));
  }
  return ev;
}

std::vector<WorstPrediction> worst_predictions(const Evaluation& ev, size_t per_target) {
  std::vector<WorstPrediction> out;
  if (ev.methods.empty() || per_target == 0) return out;
  const MethodEvaluation& first = ev.methods.front();
  for (results::Target t : results::kAllTargets) {
    auto it = first.targets.find(t);
    if (it == first.targets.end()) continue;
    std::vector<WorstPrediction> rows;
    for (const PredictedPoint& p : it->second.points) {
      if (!(p.measured > 0)) continue;
      WorstPrediction w;
      w.target = t;
      w.method = first.method;
      w.point = p;
      w.error = 100.0 * std::abs(p.predicted - p.measured) / p.measured;
      rows.push_back(std::move(w));
    }
    const size_t n = std::min(per_target, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n), rows.end(),
                      [](const WorstPrediction& a, const WorstPrediction& b) {
                        if (a.error != b.error) return a.error > b.error;
                        if (a.point.net != b.point.net) return a.point.net < b.point.net;
                        return a.point.batch < b.point.batch;
                      });
    rows.resize(n);
    for (WorstPrediction& w : rows) {
      for (size_t m = 1; m < ev.methods.size(); ++m) {
        auto other = ev.methods[m].targets.find(t);
        if (other == ev.methods[m].targets.end()) continue;
        for (const PredictedPoint& q : other->second.points)
          if (q.net == w.point.net && q.batch == w.point.batch) {
            w.others[ev.methods[m].method] = q.predicted;
            break;
          }
      }
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace p4s::evaluate
