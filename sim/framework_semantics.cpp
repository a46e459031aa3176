#include "sim/framework_semantics.hpp"

#include <cctype>
#include <cstddef>

namespace p4s::sim {
namespace {

// PyTorch 1.6 (perf4sight's TX2 data, judged by its measurements): in-place ReLU6 keeps its
// result, a 1x1 adaptive pooling keeps no input.
constexpr AutogradSemantics kPyTorch16{false, false, false};
// LibTorch 1.13: in-place ReLU6 (hardtanh_) saves a copy of its input, adaptive average
// pooling keeps its input until its backward, also for a 1x1 output computed as a mean.
constexpr AutogradSemantics kLibTorch113{true, true, false};
// LibTorch 2.11: as 1.13, but a 1x1 adaptive average pooling keeps no input.
constexpr AutogradSemantics kLibTorch211{true, false, false};

bool is(FrameworkVersion v, int major, int minor) { return v.major == major && v.minor == minor; }

}  // namespace

std::optional<FrameworkVersion> parse_framework_version(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    if (i > 0 && (std::isdigit(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.')) continue;
    size_t j = i;
    int major = 0, minor = 0;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) && major < 100000)
      major = major * 10 + (text[j++] - '0');
    if (j + 1 >= text.size() || text[j] != '.' || !std::isdigit(static_cast<unsigned char>(text[j + 1]))) continue;
    ++j;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])) && minor < 100000)
      minor = minor * 10 + (text[j++] - '0');
    return FrameworkVersion{major, minor};
  }
  return std::nullopt;
}

void AutogradSemantics::apply_to(RuntimeOptions& options) const {
  options.relu6_inplace_copies_input = relu6_inplace_copies_input;
  options.adaptive_pool_saves_input = adaptive_pool_saves_input;
  options.inplace_grad_accumulation = inplace_grad_accumulation;
}

bool AutogradSemantics::operator==(const AutogradSemantics& o) const {
  return relu6_inplace_copies_input == o.relu6_inplace_copies_input &&
         adaptive_pool_saves_input == o.adaptive_pool_saves_input &&
         inplace_grad_accumulation == o.inplace_grad_accumulation;
}

std::optional<AutogradSemantics> measured_semantics(FrameworkVersion version) {
  if (is(version, 1, 13)) return kLibTorch113;
  if (is(version, 2, 11)) return kLibTorch211;
  return std::nullopt;
}

AutogradSemantics likely_semantics(FrameworkVersion version) {
  if (const auto known = measured_semantics(version)) return *known;
  if (version.major >= 2) return kLibTorch211;
  if (version.major == 1 && version.minor >= 10) return kLibTorch113;
  return kPyTorch16;
}

}  // namespace p4s::sim
