// The evaluation report of a fit: Markdown for people, JSON for machines (CI compares the
// held-out accuracy of a regenerated model with the committed one), and plots of predicted
// against measured (PNG, drawn by gnuplot when it is installed).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "evaluate/evaluation.hpp"
#include "predictors/model_file.hpp"

namespace p4s::evaluate {

struct ReportInput {
  std::vector<std::string> sources;  // result files
  const predictors::ModelFile* model = nullptr;  // the model fitted on everything
  const Evaluation* evaluation = nullptr;  // null when impossible
  // Leave-one-family-out: why there is no evaluation, when there is none. Fitted models: what
  // the report says of the overlap of their data with these results (", although ..."), or "".
  std::string evaluation_note;
  std::vector<const predictors::ModelFile*> fitted_models;  // the models a kFittedModels evaluation evaluated
};

// A plain-text table of the evaluation, ours beside the baseline, per target: MAPE, worst
// error, share within 10%, R2, and MAPE per held-out family; then fits / does-not-fit.
std::string evaluation_table(const Evaluation& ev);

// The evaluation's numbers as JSON (schema versioned), for machines.
nlohmann::json evaluation_to_json(const Evaluation& ev);

// What a report consists of: report.md, evaluation.json (where there is an evaluation; it
// holds a digest of each plot's points) and the targets to plot. Pure: nothing is written.
struct RenderedReport {
  std::string markdown;
  std::optional<std::string> evaluation_json;
  std::vector<results::Target> plots;
};
RenderedReport render_report(const ReportInput& input);

// Writes `dir`/report.md, `dir`/evaluation.json and, when gnuplot runs, one PNG per target.
// Creates `dir` if needed. Returns one line per thing it could not do (e.g. no gnuplot);
// throws std::runtime_error when it cannot write the report itself.
std::vector<std::string> write_report(const std::string& dir, const ReportInput& input);

// CI's guard over committed reports (p4s fit --check, p4s evaluate --check): the report these
// inputs give, against the one committed in `dir`, byte for byte, in either direction. One
// line per file that differs, naming it and its first difference (artefact_diff.hpp); the
// plots through their points' digests in evaluation.json.
std::vector<std::string> check_report(const std::string& dir, const ReportInput& input);

}  // namespace p4s::evaluate
