#include "predictors/model_format.hpp"

namespace p4s::predictors {

std::string ModelFormatVersion::text() const {
  if (major == 1) return "1";
  return std::to_string(major) + "." + std::to_string(minor);
}

ModelFormatVersion current_model_format() { return ModelFormatVersion{kModelFormatMajor, kModelFormatMinor}; }

}  // namespace p4s::predictors
