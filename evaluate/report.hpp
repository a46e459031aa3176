// The evaluation report of a fit: Markdown for people, JSON for machines (CI compares the
// held-out accuracy of a regenerated model with the committed one), and plots of predicted
// against measured (PNG, drawn by gnuplot when it is installed).
#pragma once

#include <map>
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

// Where `now` is less accurate than the evaluation.json committed in `report_dir`: a line per
// method and target whose MAPE grew, naming the file, or one line saying why it cannot be read.
// CI's guard over committed reports (p4s fit --check, p4s evaluate --check).
std::vector<std::string> accuracy_regressions(const std::string& report_dir, const Evaluation& now);

// Writes `dir`/report.md, `dir`/evaluation.json and, when gnuplot runs, one PNG per target.
// Creates `dir` if needed. Returns one line per thing it could not do (e.g. no gnuplot);
// throws std::runtime_error when it cannot write the report itself.
std::vector<std::string> write_report(const std::string& dir, const ReportInput& input);

}  // namespace p4s::evaluate
