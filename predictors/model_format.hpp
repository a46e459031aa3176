// The model file's format version, major.minor (as NVBench versions its JSON): a reader reads
// every file of its major version whose minor is not newer than its own, each as it was
// written; adding something a reader must know to predict as the file was meant (a latency
// coefficient, say) is a minor version, changing what a field means a major one.
//
// History:
//   1     (an integer, files written before major.minor): a p4s model's latency coefficients
//         are a prefix of today's names, each one it lacks standing in for what weighed its
//         quantities when the file was written;
//   2.0   the same fields, the twelve latency coefficients of latency_coefficient_names()
//         listed in full.
//   2.1   fitted_on.recipes: the training recipes of the data, where any is not the default
//         one (a file without it was fitted on default-recipe steps only).
//   2.2   a thirteenth latency coefficient, per_transcendental_ms (the exp and erf of SiLU,
//         sigmoid and GELU); a file of 2.0 or 2.1 lacks it and predicts as written (0). Every
//         file is written as 2.2.
#pragma once

#include <optional>
#include <string>

namespace p4s::predictors {

inline constexpr const char* kModelFormatName = "p4s-model";

struct ModelFormatVersion {
  int major = 0;
  int minor = 0;
  std::string text() const;  // "2.0"; "1" for the integer version
};

// What this build writes, and the newest it reads.
inline constexpr int kModelFormatMajor = 2;
inline constexpr int kModelFormatMinor = 2;
ModelFormatVersion current_model_format();

}  // namespace p4s::predictors
