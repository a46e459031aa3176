// `p4s fit`: learns predictors from Google Benchmark result files and writes a model file;
// with --report, also evaluates them leave-one-family-out beside the perf4sight baseline.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/load_results.hpp"
#include "common/atomic_file.hpp"
#include "evaluate/artefact_diff.hpp"
#include "evaluate/evaluation.hpp"
#include "evaluate/report.hpp"
#include "predictors/model_file.hpp"
#include "predictors/observations.hpp"
#include "predictors/p4s/runtime_candidates.hpp"
#include "results_format/reader.hpp"

namespace p4s::cli {
namespace {

constexpr const char* kUsage =
    "usage: p4s fit --out MODEL.json [--netspecs DIR]... [options] RESULTS.json...\n"
    "\n"
    "Learns predictors of training-step memory and latency from Google Benchmark result\n"
    "files (Net/<net>/bs:<N> cases; out-of-memory entries teach fits / does not fit).\n"
    "\n"
    "  --out FILE       the model file to write (atomically)\n"
    "  --netspecs DIR   a folder of NetSpec files for the networks the results name\n"
    "                   (repeatable); built-in network names need none\n"
    "  --method M       p4s (the default: simulation and fitted cost terms) or perf4sight\n"
    "                   (the paper's method, ExtraTrees on per-convolution features)\n"
    "  --report DIR     also evaluate leave-one-family-out, ours beside the baseline, and\n"
    "                   write DIR/report.md, DIR/evaluation.json and plots\n"
    "  --no-baseline    leave the baseline out of the evaluation\n"
    "  --seed N         seed of the baseline's trees (default 1)\n"
    "  --check          write nothing; instead check that --out, and --report's report.md\n"
    "                   and evaluation.json, hold exactly what these results give (exit 3,\n"
    "                   naming each file and its first difference, when not): CI's guard\n"
    "                   over the committed models and reports\n"
    "                   (exit 3 when not): CI's guard over the committed models\n";

}  // namespace

int run_fit(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
  const Arguments a(args, {{"--out"}, {"--netspecs", true, true}, {"--method"}, {"--report"},
                           {"--no-baseline", false}, {"--seed"}, {"--check", false}});
  const std::string out = a.value("--out");
  if (a.positionals().empty()) throw InputError("no result files given (see 'p4s fit --help')");
  const std::string method_text = a.has("--method") ? a.value("--method") : "p4s";
  const std::optional<predictors::Method> method = predictors::method_from_name(method_text);
  if (!method) throw InputError("--method: must be p4s or perf4sight, got \"" + method_text + "\"");
  const uint64_t seed = a.has("--seed") ? static_cast<uint64_t>(parse_positive_int(a.value("--seed"), "--seed")) : 1;
  // Where the outputs go, before any work: a long fit must not end in a refusal.
  if (!a.has("--check")) {
    check_output_file(out, "--out");
    if (a.has("--report")) check_output_folder(a.value("--report"), "--report");
  }

  const LoadedResults loaded = load_results(a.positionals(), a.values("--netspecs"));
  const results::ResultSet& results = loaded.results;
  const std::vector<predictors::Observation>& observations = loaded.observations;
  const std::string files = sources_text(results.sources);

  const std::vector<sim::DeviceRuntime> candidates = predictors::candidate_runtimes(results);
  predictors::TrainingSet data;
  for (const predictors::Observation& o : observations) data.steps.push_back(&o);
  data.layer_cases = results.layers;
  data.runtimes = candidates;
  data.seed = seed;

  predictors::ModelFile model;
  model.data_digest = predictors::data_digest(observations);
  model.measurements = observations.size();
  model.families = predictors::families_of(observations);
  model.recipes = predictors::recipes_of(observations);
  model.device = results.context;
  try {
    model.predictor = predictors::train_predictor(*method, data);
  } catch (const InputError& e) {
    throw InputError(files + ": " + e.what());
  }
  // The model's text before anything is written: a model with a NaN is refused whole.
  std::string model_text;
  try {
    model_text = predictors::model_to_json(model);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(out + ": " + e.what());
  }

  // Evaluate before writing anything, so that a failure leaves no half of the output.
  std::optional<evaluate::Evaluation> evaluation;
  std::string note;
  if (a.has("--report")) {
    if (model.families.size() < 2) {
      note = "No evaluation: leave-one-family-out needs networks of two or more families; the results have " +
             std::to_string(model.families.size()) + ".";
    } else {
      evaluate::EvaluationOptions eo;
      eo.baseline = !a.has("--no-baseline");
      eo.seed = seed;
      evaluation = evaluate::evaluate_leave_one_family_out(observations, results.layers, candidates, eo);
    }
  }

  evaluate::ReportInput report;
  report.sources = results.sources;
  report.model = &model;
  report.evaluation = evaluation ? &*evaluation : nullptr;
  report.evaluation_note = note;
  if (a.has("--check")) {
    std::vector<std::string> problems;
    if (std::optional<std::string> d = evaluate::first_difference(out, model_text)) problems.push_back(*d);
    if (a.has("--report"))
      for (std::string& p : evaluate::check_report(a.value("--report"), report)) problems.push_back(std::move(p));
    for (const std::string& p : problems) std::fprintf(stderr, "p4s fit --check: %s\n", p.c_str());
    if (!problems.empty()) return kExitCheckFailed;
    std::printf("%s%s hold%s exactly what these results give\n", out.c_str(),
                a.has("--report") ? (" and " + a.value("--report")).c_str() : "", a.has("--report") ? "" : "s");
    return kExitOk;
  }
  write_file_atomically(out, model_text);
  std::printf("fitted %s on %zu network cases (%zu families) from %zu file%s: ", method_text.c_str(),
              observations.size(), model.families.size(), results.sources.size(),
              results.sources.size() == 1 ? "" : "s");
  const auto targets = model.targets();
  for (size_t i = 0; i < targets.size(); ++i) std::printf("%s%s", i ? ", " : "", results::target_name(targets[i]));
  std::printf("\n");
  if (const sim::DeviceRuntime* runtime = model.predictor->runtime())
    std::printf("runtime: %s\n", runtime->describe().c_str());
  std::printf("model written to %s\n", out.c_str());
  if (a.has("--report")) {
    for (const std::string& w : evaluate::write_report(a.value("--report"), report))
      std::fprintf(stderr, "p4s fit: %s\n", w.c_str());
    if (evaluation) std::printf("\n%s", evaluate::evaluation_table(*evaluation).c_str());
    else std::printf("%s\n", note.c_str());
    std::printf("report written to %s/report.md\n", a.value("--report").c_str());
  }
  return kExitOk;
}

}  // namespace p4s::cli
