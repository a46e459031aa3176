// `p4s evaluate`: how fitted models do on measurements they were not fitted on (networks
// measured after the fit, families the profile never had): per target and family, MAPE, worst
// error, share within 10% and R2, and fits / does not fit; with --report, Markdown, JSON and plots.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/load_results.hpp"
#include "evaluate/evaluation.hpp"
#include "evaluate/report.hpp"
#include "predictors/model_file.hpp"

namespace p4s::cli {
namespace {

constexpr const char* kUsage =
    "usage: p4s evaluate --model MODEL.json [--model MODEL.json] [options] RESULTS.json...\n"
    "\n"
    "Predicts every Net/<net>/bs:<N> case of the result files with models that p4s fit wrote\n"
    "and reports how close they come, per target and per family: MAPE, worst error, share\n"
    "within 10%, R2, and how well each tells the steps that fit in memory from those that ran\n"
    "out of it. Nothing is fitted: give results the models were not fitted on (their families\n"
    "are compared with the results', and an overlap is said).\n"
    "\n"
    "  --model FILE     a model file; twice for one of each method (p4s and perf4sight),\n"
    "                   reported side by side\n"
    "  --netspecs DIR   a folder of NetSpec files for the networks the results name\n"
    "                   (repeatable); built-in network names need none\n"
    "  --report DIR     also write DIR/report.md, DIR/evaluation.json and plots\n"
    "  --json           print the evaluation as one JSON object instead of the table\n"
    "  --check          with --report: write nothing; instead fail (exit 3) when DIR's\n"
    "                   report.md or evaluation.json differ from what these models give: CI's\n"
    "                   guard over committed reports\n";

// ", although the p4s model was fitted on mobilenetv2 too" for each model whose families
// include some of the results'; "" when none does.
std::string overlap_note(const std::vector<predictors::ModelFile>& models, const std::vector<std::string>& families) {
  std::string note;
  for (const predictors::ModelFile& m : models) {
    std::string shared;
    for (const std::string& f : m.families)
      if (std::find(families.begin(), families.end(), f) != families.end()) shared += (shared.empty() ? "" : ", ") + f;
    if (!shared.empty())
      note += std::string(note.empty() ? ", although " : " and ") + "the " + predictors::method_name(m.method()) + " model was fitted on " +
              shared + " too";
  }
  return note;
}

}  // namespace

int run_evaluate(const std::vector<std::string>& args) {
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
  const Arguments a(args, {{"--model", true, true}, {"--netspecs", true, true}, {"--report"}, {"--json", false},
                           {"--check", false}});
  if (a.positionals().empty()) throw InputError("no result files given (see 'p4s evaluate --help')");
  if (!a.has("--model")) throw InputError("--model: give the model file to evaluate");
  if (a.has("--check") && !a.has("--report")) throw InputError("--check: give the committed report's folder with --report");
  if (a.has("--report") && !a.has("--check")) check_output_folder(a.value("--report"), "--report");

  std::vector<predictors::ModelFile> models;
  for (const std::string& path : a.values("--model")) {
    models.push_back(predictors::read_model(path));
    for (size_t i = 0; i + 1 < models.size(); ++i)
      if (models[i].method() == models.back().method())
        throw InputError("--model: " + path + " is a second " + predictors::method_name(models.back().method()) +
                         " model; give one model per method");
  }
  const LoadedResults loaded = load_results(a.positionals(), a.values("--netspecs"));
  std::vector<const predictors::ModelFile*> pointers;
  for (const predictors::ModelFile& m : models) pointers.push_back(&m);
  const evaluate::Evaluation ev = evaluate::evaluate_fitted_models(loaded.observations, pointers);
  const std::string note = overlap_note(models, ev.families);

  evaluate::ReportInput report;
  report.sources = loaded.results.sources;
  report.evaluation = &ev;
  report.evaluation_note = note;
  report.fitted_models = pointers;
  if (a.has("--check")) {
    const std::vector<std::string> problems = evaluate::check_report(a.value("--report"), report);
    for (const std::string& p : problems) std::fprintf(stderr, "p4s evaluate --check: %s\n", p.c_str());
    if (!problems.empty()) return kExitCheckFailed;
    std::printf("%s holds exactly what these models give on these results\n", a.value("--report").c_str());
    return kExitOk;
  }
  if (a.has("--report"))
    for (const std::string& w : evaluate::write_report(a.value("--report"), report))
      std::fprintf(stderr, "p4s evaluate: %s\n", w.c_str());
  if (a.has("--json")) {
    nlohmann::json j = evaluate::evaluation_to_json(ev);
    nlohmann::json ms = nlohmann::json::array();
    for (const predictors::ModelFile& m : models)
      ms.push_back({{"method", predictors::method_name(m.method())}, {"data_digest", m.data_digest}, {"families", m.families}});
    j["models"] = ms;
    std::printf("%s\n", j.dump(1).c_str());
    return kExitOk;
  }
  for (const predictors::ModelFile& m : models) {
    std::printf("%s model fitted on %zu network cases of", predictors::method_name(m.method()), m.measurements);
    for (size_t i = 0; i < m.families.size(); ++i) std::printf("%s %s", i ? "," : "", m.families[i].c_str());
    std::printf(" (%s)\n", m.data_digest.c_str());
  }
  if (!note.empty()) std::printf("note: not all held out%s\n", note.c_str());
  std::printf("\n%s", evaluate::evaluation_table(ev).c_str());
  if (a.has("--report")) std::printf("report written to %s/report.md\n", a.value("--report").c_str());
  return kExitOk;
}

}  // namespace p4s::cli
