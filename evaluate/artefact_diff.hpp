// Committed artefacts (model files, evaluation.json, report.md) against what their data gives
// now: equal byte for byte, or the first difference, said so that a person sees which figure
// moved and how. Either direction fails: a figure better than the data gives is as wrong as a
// worse one.
#pragma once

#include <optional>
#include <string>

namespace p4s::evaluate {

// nullopt when the file at `committed_path` holds exactly `fresh`. Otherwise one line naming
// the file and its first difference: for JSON the first field (in document order) whose value
// differs, is missing on one side or added ("field \"methods.p4s.targets.latency_ms.mape\":
// committed 12.19, the data give 13.57"); for other text the first line that differs, both
// versions shown; or that the file is missing or unreadable.
std::optional<std::string> first_difference(const std::string& committed_path, const std::string& fresh);

}  // namespace p4s::evaluate
