#include "evaluate/report.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/atomic_file.hpp"
#include "evaluate/artefact_diff.hpp"
#include "sim/cost_terms.hpp"

namespace p4s::evaluate {
namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string fmt(const char* f, const char* v) {
  char buf[128];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Values shown to people: memory in MiB, latency in ms.
double display(results::Target t, double v) { return t == results::Target::kLatencyMs ? v : v / (1024.0 * 1024.0); }
const char* unit(results::Target t) { return t == results::Target::kLatencyMs ? "ms" : "MiB"; }

std::string method_title(predictors::Method m) {
  return m == predictors::Method::kP4s ? "p4s (ours)" : "perf4sight (baseline)";
}
constexpr const char* kReferenceShort = "neighbours (reference)";

bool held_out_folds(const Evaluation& ev) { return ev.kind == EvaluationKind::kLeaveOneFamilyOut; }
// A family's column heading in the accuracy tables.
std::string family_column(const Evaluation& ev, const std::string& family) {
  return held_out_folds(ev) ? family + " held out" : family;
}

void make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST)
    throw std::runtime_error(dir + ": cannot create the report folder: " + std::strerror(errno));
}

std::string model_summary(const predictors::ModelFile& m) {
  std::ostringstream s;
  s << "- method: `" << predictors::method_name(m.method()) << "`, fitted on " << m.measurements
    << " network cases of " << m.families.size() << " families (";
  for (size_t i = 0; i < m.families.size(); ++i) s << (i ? ", " : "") << m.families[i];
  s << "), data digest `" << m.data_digest << "`\n";
  for (const std::string& line : m.predictor->describe()) s << "- " << line << "\n";
  return s.str();
}

// The points of predicted against measured for one target, each method's as a gnuplot data
// block (display units); empty when no method predicted it. Its digest in evaluation.json
// stands for the plot, whose pixels depend on gnuplot's version.
std::string plot_data(results::Target t, const Evaluation& ev) {
  std::ostringstream g;
  for (const MethodEvaluation& me : ev.methods) {
    auto it = me.targets.find(t);
    if (it == me.targets.end()) continue;
    g << "$" << predictors::method_name(me.method) << " << EOD\n";
    for (const PredictedPoint& p : it->second.points) {
      const double m = display(t, p.measured), q = display(t, p.predicted);
      if (m <= 0 || q <= 0) continue;
      g << fmt("%.9g", m) << " " << fmt("%.9g", q) << "\n";
    }
    g << "EOD\n";
  }
  return g.str();
}

bool has_points(results::Target t, const Evaluation& ev) {
  for (const MethodEvaluation& me : ev.methods)
    if (me.targets.count(t)) return true;
  return false;
}

std::string fnv1a64(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Draws predicted against measured for one target, both methods, with gnuplot. Returns what
// went wrong, or "".
std::string plot(const std::string& dir, results::Target t, const Evaluation& ev) {
  const std::string png = dir + "/" + results::target_name(t) + ".png";
  const std::string tmp = png + ".tmp.png";
  double lo = INFINITY, hi = 0;
  for (const MethodEvaluation& me : ev.methods) {
    auto it = me.targets.find(t);
    if (it == me.targets.end()) continue;
    for (const PredictedPoint& p : it->second.points) {
      const double m = display(t, p.measured), q = display(t, p.predicted);
      if (m <= 0 || q <= 0) continue;
      lo = std::min({lo, m, q});
      hi = std::max({hi, m, q});
    }
  }
  if (!(hi > 0)) return "";
  std::ostringstream g;
  g << "set terminal pngcairo size 900,700 noenhanced\n"
    << "set output '" << tmp << "'\n"
    << "set logscale xy\nset grid\nset key top left\n"
    << "set title '" << results::target_name(t) << ": predicted against measured"
    << (held_out_folds(ev) ? ", each family held out" : ", models fitted beforehand") << "'\n"
    << "set xlabel 'measured (" << unit(t) << ")'\nset ylabel 'predicted (" << unit(t) << ")'\n"
    << plot_data(t, ev);
  g << "set xrange [" << lo / 1.2 << ":" << hi * 1.2 << "]\nset yrange [" << lo / 1.2 << ":" << hi * 1.2 << "]\n";
  g << "plot x title 'exact' lc rgb 'black', 1.1*x title '+-10%' dt 2 lc rgb 'gray', 0.9*x notitle dt 2 lc rgb 'gray'";
  const char* colors[] = {"'#1f77b4'", "'#d62728'"};
  size_t c = 0;
  for (const MethodEvaluation& me : ev.methods)
    if (me.targets.count(t))
      g << ", $" << predictors::method_name(me.method) << " using 1:2 with points pt 7 ps 0.6 lc rgb " << colors[c++ % 2] << " title '"
        << method_title(me.method) << "'";
  g << "\n";
  FILE* p = ::popen("gnuplot 2>/dev/null", "w");
  if (!p) return "gnuplot could not be started: plots skipped";
  const std::string script = g.str();
  std::fwrite(script.data(), 1, script.size(), p);
  const int status = ::pclose(p);
  if (status != 0) {
    ::unlink(tmp.c_str());
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return "gnuplot is not installed: plots skipped";
    return "gnuplot failed on " + png + ": plot skipped";
  }
  if (std::rename(tmp.c_str(), png.c_str()) != 0) return png + ": cannot write the plot";
  return "";
}

// The held-out predictions of the first method furthest from their measurements, per target,
// beside the other methods' predictions of the same steps.
std::string largest_errors(const Evaluation& ev) {
  constexpr size_t kPerTarget = 3;
  const std::vector<WorstPrediction> worst = worst_predictions(ev, kPerTarget);
  if (worst.empty()) return "";
  std::vector<predictors::Method> others;
  for (size_t m = 1; m < ev.methods.size(); ++m) others.push_back(ev.methods[m].method);
  std::ostringstream s;
  s << "## Largest errors\n\nThe " << (held_out_folds(ev) ? "held-out " : "") << "predictions of "
    << method_title(worst.front().method)
    << " furthest from their measurements, " << kPerTarget << " per target"
    << (others.empty() ? "" : ", beside the other method's prediction of the same step") << ":\n\n"
    << "| target | network | batch | measured | " << method_title(worst.front().method) << " | error |";
  for (predictors::Method o : others) s << " " << method_title(o) << " | error |";
  s << "\n|---|---|---:|---:|---:|---:|";
  for (size_t i = 0; i < others.size(); ++i) s << "---:|---:|";
  s << "\n";
  for (const WorstPrediction& w : worst) {
    const results::Target t = w.target;
    const double m = w.point.measured;
    s << "| `" << results::target_name(t) << "` | " << w.point.net << " | " << w.point.batch << " | "
      << fmt("%.1f ", display(t, m)) << unit(t) << " | " << fmt("%.1f ", display(t, w.point.predicted)) << unit(t)
      << " | " << fmt("%.1f%%", w.error) << " |";
    for (predictors::Method o : others) {
      auto it = w.others.find(o);
      if (it == w.others.end()) {
        s << " - | - |";
        continue;
      }
      s << " " << fmt("%.1f ", display(t, it->second)) << unit(t) << " | "
        << fmt("%.1f%%", 100.0 * std::abs(it->second - m) / m) << " |";
    }
    s << "\n";
  }
  s << "\n";
  return s.str();
}

// The rows of one target in the accuracy tables: each method that predicted it, then the
// reference where a method did.
struct TableRow {
  std::string title;
  bool reference = false;
  const TargetEvaluation* te = nullptr;
};
std::vector<TableRow> table_rows(const Evaluation& ev, results::Target t) {
  std::vector<TableRow> rows;
  for (const MethodEvaluation& me : ev.methods) {
    auto it = me.targets.find(t);
    if (it != me.targets.end()) rows.push_back({method_title(me.method), false, &it->second});
  }
  auto r = ev.reference.find(t);
  if (!rows.empty() && r != ev.reference.end()) rows.push_back({kReferenceShort, true, &r->second});
  return rows;
}

nlohmann::json metrics_json(const Metrics& m) {
  return {{"n", m.n}, {"mape", m.mape}, {"worst", m.worst}, {"within10", m.within10}, {"r2", m.r2}};
}

// Metrics with their per-family figures under "by_family".
nlohmann::json metrics_by_family_json(const Metrics& overall, const std::map<std::string, Metrics>& by_family) {
  nlohmann::json j = metrics_json(overall);
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [f, m] : by_family) by[f] = metrics_json(m);
  j["by_family"] = by;
  return j;
}

// `level`: with each method's figures after its networks' levels are removed (not for the
// reference, which interpolates within each network anyway).
nlohmann::json targets_json(const std::map<results::Target, TargetEvaluation>& targets, bool level) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [t, te] : targets) {
    nlohmann::json tj = metrics_by_family_json(te.overall, te.by_family);
    if (!te.by_recipe.empty()) {
      nlohmann::json by = nlohmann::json::object();
      for (const auto& [r, m] : te.by_recipe) by[r] = metrics_json(m);
      tj["by_recipe"] = by;
    }
    if (level) tj["level_removed"] = metrics_by_family_json(te.level_removed, te.level_removed_by_family);
    out[results::target_name(t)] = tj;
  }
  return out;
}

// Where the steps are of several recipes: each method's MAPE per recipe (recipe_label).
std::string recipe_table(const Evaluation& ev) {
  std::set<std::string> recipes;
  for (const MethodEvaluation& me : ev.methods)
    for (const auto& [t, te] : me.targets)
      for (const auto& [r, m] : te.by_recipe) recipes.insert(r);
  if (recipes.empty()) return "";
  std::ostringstream md;
  md << "By training recipe (MAPE; `default`: SGD with momentum 0.9 and weight decay 5e-4, fp32, every layer "
        "trained; the others name what differs, as case names do, `from:*` a frozen prefix up to each network's own layer, and the optimizer's settings where they are not its usual ones):\n\n| target | method |";
  for (const std::string& r : recipes) md << " `" << r << "` |";
  md << "\n|---|---|";
  for (size_t i = 0; i < recipes.size(); ++i) md << "---:|";
  md << "\n";
  for (results::Target t : results::kAllTargets)
    for (const MethodEvaluation& me : ev.methods) {
      auto te = me.targets.find(t);
      if (te == me.targets.end() || te->second.by_recipe.empty()) continue;
      md << "| `" << results::target_name(t) << "` | " << method_title(me.method) << " |";
      for (const std::string& r : recipes) {
        auto m = te->second.by_recipe.find(r);
        md << " " << (m == te->second.by_recipe.end() ? std::string("-") : fmt("%.2f%%", m->second.mape)) << " |";
      }
      md << "\n";
    }
  return md.str() + "\n";
}

// The methods' errors with each network's level removed (level_removed), beside their MAPE.
std::string level_table(const Evaluation& ev) {
  std::ostringstream md;
  bool any = false;
  for (const MethodEvaluation& me : ev.methods)
    for (const auto& [t, te] : me.targets) any |= te.level_removed.n > 0;
  if (!any) return "";
  md << "Where the error is: each network's predictions divided by their median ratio to its "
        "measurements (networks predicted at two batch sizes or more). What is left is the error in how the "
        "predictions follow the batch size; the difference to the MAPE is a level per network, the same at "
        "every batch size, which only what a method knows of a network's layers can mend.\n\n";
  md << "| target | method | MAPE | level removed | <=10% |";
  for (const std::string& f : ev.families) md << " " << f << " |";
  md << "\n|---|---|---:|---:|---:|";
  for (size_t i = 0; i < ev.families.size(); ++i) md << "---:|";
  md << "\n";
  for (results::Target t : results::kAllTargets)
    for (const MethodEvaluation& me : ev.methods) {
      auto it = me.targets.find(t);
      if (it == me.targets.end() || !it->second.level_removed.n) continue;
      const TargetEvaluation& te = it->second;
      md << "| `" << results::target_name(t) << "` | " << method_title(me.method) << " | " << fmt("%.2f%%", te.overall.mape)
         << " | " << fmt("%.2f%%", te.level_removed.mape) << " | " << fmt("%.1f%%", te.level_removed.within10) << " |";
      for (const std::string& f : ev.families) {
        auto b = te.level_removed_by_family.find(f);
        md << " " << (b == te.level_removed_by_family.end() || !b->second.n ? std::string("-") : fmt("%.2f%%", b->second.mape)) << " |";
      }
      md << "\n";
    }
  md << "\n";
  return md.str();
}

}  // namespace

std::string evaluation_table(const Evaluation& ev) {
  std::ostringstream s;
  s << (held_out_folds(ev) ? "Leave-one-family-out: fitted on the other families, predicting the held-out one\n"
                            : "Fitted models predicting these results\n");
  s << fmt("%-13s", "target") << fmt("%-23s", "method") << fmt("%8s", "MAPE") << fmt("%8s", "worst")
    << fmt("%8s", "<=10%") << fmt("%7s", "R2") << (held_out_folds(ev) ? "  | MAPE with held out:" : "  | MAPE of:");
  for (const std::string& f : ev.families) s << " " << f;
  s << "\n";
  for (results::Target t : results::kAllTargets) {
    bool first = true;
    for (const TableRow& row : table_rows(ev, t)) {
      const Metrics& m = row.te->overall;
      s << fmt("%-13s", first ? results::target_name(t) : "") << fmt("%-23s", row.title.c_str()) << fmt("%7.2f%%", m.mape)
        << fmt("%7.1f%%", m.worst) << fmt("%7.1f%%", m.within10) << fmt("%7.3f", m.r2) << "  |";
      for (const std::string& f : ev.families) {
        auto b = row.te->by_family.find(f);
        s << (b == row.te->by_family.end() ? std::string("      -") : fmt(" %6.2f%%", b->second.mape));
      }
      s << "\n";
      first = false;
    }
  }
  if (!ev.reference.empty())
    s << kReferenceShort << ": each step interpolated between the same network's neighbouring batch sizes,\n"
      << "  the measurements' own smoothness (not a predictor: it has seen the network)\n";
  for (const MethodEvaluation& me : ev.methods) {
    std::string line;
    for (const auto& [t, te] : me.targets)
      if (te.level_removed.n) line += std::string(line.empty() ? "" : ", ") + results::target_name(t) + fmt(" %.2f%%", te.level_removed.mape);
    if (!line.empty()) s << "MAPE with each network's level removed, " << method_title(me.method) << ": " << line << "\n";
  }
  for (const auto& [family, why] : ev.not_evaluated) s << family << " held out: not evaluated: " << why << "\n";
  for (const MethodEvaluation& me : ev.methods)
    if (me.fits.n)
      s << "fits / does not fit, " << method_title(me.method) << ": " << fmt("%.1f%%", me.fits.accuracy()) << " correct ("
        << me.fits.correct << " of " << me.fits.n << "; " << me.fits.missed_oom << " predicted to fit that ran out of memory, "
        << me.fits.false_oom << " predicted not to fit that ran)\n";
  return s.str();
}

nlohmann::json evaluation_to_json(const Evaluation& ev) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["evaluation"] = held_out_folds(ev) ? "leave-one-family-out" : "fitted-models";
  j["families"] = ev.families;
  nlohmann::json methods = nlohmann::json::object();
  for (const MethodEvaluation& me : ev.methods) {
    nlohmann::json mj;
    mj["targets"] = targets_json(me.targets, true);
    mj["fits"] = {{"n", me.fits.n}, {"correct", me.fits.correct}, {"missed_oom", me.fits.missed_oom},
                  {"false_oom", me.fits.false_oom}, {"accuracy", me.fits.accuracy()}};
    methods[predictors::method_name(me.method)] = mj;
  }
  j["methods"] = methods;
  if (!ev.reference.empty()) j["reference"] = {{"method", "neighbour-interpolation"}, {"targets", targets_json(ev.reference, false)}};
  if (!ev.not_evaluated.empty()) j["not_evaluated"] = ev.not_evaluated;
  if (!ev.layer_cases_left_out.empty())
    j["layer_cases"] = {{"n", ev.layer_cases}, {"left_out_by_family", ev.layer_cases_left_out}};
  nlohmann::json plots = nlohmann::json::object();
  for (results::Target t : results::kAllTargets)
    if (has_points(t, ev)) plots[results::target_name(t)] = fnv1a64(plot_data(t, ev));
  j["plots"] = plots;
  return j;
}

RenderedReport render_report(const ReportInput& in) {
  RenderedReport out;
  std::ostringstream md;
  const bool folds = !in.evaluation || held_out_folds(*in.evaluation);
  md << (folds ? "# Fit report" : "# Evaluation report") << "\n\n## Data\n\n";
  for (const std::string& src : in.sources) md << "- `" << src << "`\n";
  if (in.model) {
    md << "\nDevice context:\n\n";
    for (const auto& [k, v] : in.model->device) md << "- " << k << ": " << v << "\n";
    md << "\n## Model\n\n" << model_summary(*in.model);
  }
  if (!in.fitted_models.empty()) {
    md << "\n## Models evaluated\n\n";
    for (const predictors::ModelFile* m : in.fitted_models) md << model_summary(*m);
  }
  md << (folds ? "\n## Accuracy on networks not fitted on\n\n" : "\n## Accuracy on these results\n\n");
  if (in.evaluation) {
    const Evaluation& ev = *in.evaluation;
    if (folds) {
      md << "Leave-one-family-out: for each family, the predictors are fitted on the other families "
            "and predict the held-out one; the figures gather every held-out prediction. ";
      if (ev.layer_cases > 0) {
        md << "Each fold is fitted on the " << ev.layer_cases
           << " layer cases too, but those whose layer (kind and shape, the batch aside) occurs in a network of "
              "the held-out family, which the fold holds out with it (";
        bool first = true;
        for (const auto& [family, n] : ev.layer_cases_left_out) {
          md << (first ? "" : ", ") << family << ": " << n;
          first = false;
        }
        md << "). ";
      }
    }
    else
      md << "The models, fitted beforehand on the data their summaries name, predict every step of these "
            "results; nothing here was fitted on them" << in.evaluation_note << ". ";
    md << "MAPE: mean "
          "absolute percentage error; worst: largest; <=10%: share of predictions within 10% of the "
          "measurement; R2: coefficient of determination.\n\n";
    md << "| target | method | MAPE | worst | <=10% | R2 |";
    for (const std::string& f : ev.families) md << " " << family_column(ev, f) << " |";
    md << "\n|---|---|---:|---:|---:|---:|";
    for (size_t i = 0; i < ev.families.size(); ++i) md << "---:|";
    md << "\n";
    for (results::Target t : results::kAllTargets)
      for (const TableRow& row : table_rows(ev, t)) {
        const Metrics& m = row.te->overall;
        md << "| `" << results::target_name(t) << "` | " << (row.reference ? "*" + row.title + "*" : row.title) << " | "
           << fmt("%.2f%%", m.mape) << " | " << fmt("%.1f%%", m.worst) << " | " << fmt("%.1f%%", m.within10) << " | "
           << fmt("%.3f", m.r2) << " |";
        for (const std::string& f : ev.families) {
          auto b = row.te->by_family.find(f);
          md << " " << (b == row.te->by_family.end() ? std::string("-") : fmt("%.2f%%", b->second.mape)) << " |";
        }
        md << "\n";
      }
    md << "\n";
    if (!ev.reference.empty())
      md << "*" << kReferenceShort << "*: not a predictor: each step interpolated linearly between the same "
            "network's steps at the nearest smaller and larger batch sizes (its family columns: that family's "
            "networks). Having seen the network, it shows how smooth the measurements are in the batch size: its "
            "error is what run-to-run noise, allocator steps and kernel switches between batch sizes cost a "
            "prediction that is smooth in the batch size. A method that knows those switches can beat it; a held-out "
            "error several times larger leaves something to model.\n\n";
    md << recipe_table(ev);
    md << level_table(ev);
    for (const auto& [family, why] : ev.not_evaluated)
      md << "Not evaluated with " << family << " held out: " << why << ".\n\n";
    for (const MethodEvaluation& me : ev.methods)
      if (me.fits.n)
        md << "Fits / does not fit, " << method_title(me.method) << ": " << fmt("%.1f%%", me.fits.accuracy())
           << " correct (" << me.fits.correct << " of " << me.fits.n << "; " << me.fits.missed_oom
           << " predicted to fit ran out of memory, " << me.fits.false_oom << " predicted not to fit ran).\n\n";
    md << largest_errors(ev);
    md << "## Predicted against measured\n\n";
    for (results::Target t : results::kAllTargets) {
      if (!has_points(t, ev)) continue;
      md << "![" << results::target_name(t) << "](" << results::target_name(t) << ".png)\n\n";
      out.plots.push_back(t);
    }
    out.evaluation_json = evaluation_to_json(ev).dump(1) + "\n";
  } else {
    md << in.evaluation_note << "\n";
  }
  out.markdown = md.str();
  return out;
}

std::vector<std::string> write_report(const std::string& dir, const ReportInput& in) {
  const RenderedReport r = render_report(in);
  make_dir(dir);
  std::vector<std::string> warnings;
  for (results::Target t : r.plots) {
    const std::string w = plot(dir, t, *in.evaluation);
    if (!w.empty() && std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
  }
  if (r.evaluation_json) p4s::write_file_atomically(dir + "/evaluation.json", *r.evaluation_json);
  p4s::write_file_atomically(dir + "/report.md", r.markdown);
  return warnings;
}

std::vector<std::string> check_report(const std::string& dir, const ReportInput& in) {
  const RenderedReport r = render_report(in);
  std::vector<std::string> problems;
  if (r.evaluation_json)
    if (std::optional<std::string> d = first_difference(dir + "/evaluation.json", *r.evaluation_json))
      problems.push_back(*d);
  if (std::optional<std::string> d = first_difference(dir + "/report.md", r.markdown)) problems.push_back(*d);
  return problems;
}

}  // namespace p4s::evaluate
