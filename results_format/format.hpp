// The results format, spelled once: what bench writes and the reader reads. A results file is
// Google Benchmark's JSON output; the project's part of it is
//   - the context's keys, prefixed "p4s_", among them p4s_schema_version (kSchemaVersion);
//   - the case names: whole networks `Net/<net>/bs:<N>`, layer cases
//     `<Kind>/<arg>:<value>/.../bs:<N>` (Conv2d, Linear, BatchNorm2d, the activations,
//     LayerNorm2d, ChannelShuffle, SqueezeExcitation; layer_arg_names), each
//     possibly followed by Google Benchmark's own parts (`/manual_time`, `/repeats:3`);
//   - the user counters of each entry: mem_alloc, mem_reserved (CUDA), mem_used in bytes,
//     flops and params; a case's real_time is its latency.
// bench/README.md describes the format for users; this header is what both sides compile.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace p4s::results {

// The schema version bench writes and the newest this reader understands; files of a newer
// one are refused.
inline constexpr int kSchemaVersion = 1;
inline constexpr const char* kSchemaVersionKey = "p4s_schema_version";

// What a predictor can be fitted on. Memory targets are bytes, latency milliseconds.
enum class Target { kLatencyMs, kMemAlloc, kMemReserved, kMemUsed };
inline constexpr Target kAllTargets[] = {Target::kLatencyMs, Target::kMemAlloc,
                                         Target::kMemReserved, Target::kMemUsed};
// "latency_ms", "mem_alloc", "mem_reserved", "mem_used": the names in model files and
// `p4s predict --json`; the memory targets' names are also their counters' names.
const char* target_name(Target t);
std::optional<Target> target_from_name(const std::string& name);

// The user counters bench writes besides the memory targets'.
inline constexpr const char* kFlopsCounter = "flops";    // training FLOPs of one step
inline constexpr const char* kParamsCounter = "params";  // trainable parameter elements

// Network cases: `Net/<net>/bs:<N>`. Google Benchmark registers the family `Net/<net>` with
// the argument name `bs`.
inline constexpr std::string_view kNetCasePrefix = "Net";
inline constexpr const char* kBatchArg = "bs";
std::string net_case_family(std::string_view net);               // "Net/<net>"
std::string net_case_name(std::string_view net, int64_t batch);  // "Net/<net>/bs:<N>"

// Layer cases: one layer's training step alone (SqueezeExcitation: one block of layers).
// Each activation is a kind of its own, named as PyTorch's module (nn.SiLU, ...): case
// arguments are integers, and a name that says the op reads better than an op code.
enum class LayerKind {
  kConv2d,
  kLinear,
  kBatchNorm2d,
  kSiLU,
  kHardswish,
  kHardsigmoid,
  kSigmoid,
  kGELU,
  kLayerNorm2d,
  kChannelShuffle,
  kSqueezeExcitation,
};
inline constexpr LayerKind kLayerKinds[] = {
    LayerKind::kConv2d,      LayerKind::kLinear,      LayerKind::kBatchNorm2d,    LayerKind::kSiLU,
    LayerKind::kHardswish,   LayerKind::kHardsigmoid, LayerKind::kSigmoid,        LayerKind::kGELU,
    LayerKind::kLayerNorm2d, LayerKind::kChannelShuffle, LayerKind::kSqueezeExcitation};
// SiLU, Hardswish, Hardsigmoid, Sigmoid, GELU: the element-wise activation kinds.
bool is_activation_kind(LayerKind kind);
// "Conv2d", "Linear", "BatchNorm2d", "SiLU", "Hardswish", "Hardsigmoid", "Sigmoid", "GELU",
// "LayerNorm2d", "ChannelShuffle", "SqueezeExcitation": the first part of the case name.
std::string_view layer_kind_name(LayerKind kind);
std::optional<LayerKind> layer_kind_from_name(std::string_view name);
// The argument names, in name order; the batch size "bs" is always last.
//   Conv2d:            cin, cout, k, s, g, hw, bs
//   Linear:            in, out, bs
//   BatchNorm2d:       c, hw, bs
//   activations:       c, hw, bs
//   LayerNorm2d:       c, hw, bs
//   ChannelShuffle:    c, g, hw, bs
//   SqueezeExcitation: c, r, hw, bs
const std::vector<std::string>& layer_arg_names(LayerKind kind);
// The case's name without Google Benchmark's parts: "Conv2d/cin:64/cout:64/k:3/s:1/g:1/hw:56/bs:32".
// `args` in layer_arg_names order.
std::string layer_case_name(LayerKind kind, const std::vector<int64_t>& args);

// The layer shapes of layer cases, without the batch size.
struct Conv2dShape {  // k x k kernel, stride s, padding k / 2, groups g, no bias; hw x hw input
  int64_t cin, cout, k, s, g, hw;
};
struct LinearShape {  // with bias
  int64_t in, out;
};
struct BatchNorm2dShape {  // affine, running statistics; hw x hw input
  int64_t c, hw;
};
struct ActivationShape {  // `kind` one of the activation kinds; not in place; hw x hw input
  LayerKind kind;
  int64_t c, hw;
};
struct LayerNorm2dShape {  // over the channels at each position, affine; hw x hw input
  int64_t c, hw;
};
struct ChannelShuffleShape {  // g groups (g divides c); hw x hw input
  int64_t c, g, hw;
};
// adaptive avg pool to 1x1, conv1x1 c -> r with bias, ReLU, conv1x1 r -> c with bias,
// Hardsigmoid, times the input (MobileNetV3's squeeze-excitation); hw x hw input.
struct SqueezeExcitationShape {
  int64_t c, r, hw;
};
using CaseShape = std::variant<Conv2dShape, LinearShape, BatchNorm2dShape, ActivationShape, LayerNorm2dShape,
                               ChannelShuffleShape, SqueezeExcitationShape>;
bool operator==(const Conv2dShape& a, const Conv2dShape& b);
bool operator==(const LinearShape& a, const LinearShape& b);
bool operator==(const BatchNorm2dShape& a, const BatchNorm2dShape& b);
bool operator==(const ActivationShape& a, const ActivationShape& b);
bool operator==(const LayerNorm2dShape& a, const LayerNorm2dShape& b);
bool operator==(const ChannelShuffleShape& a, const ChannelShuffleShape& b);
bool operator==(const SqueezeExcitationShape& a, const SqueezeExcitationShape& b);

LayerKind kind_of(const CaseShape& shape);
// A shape's case arguments at one batch size, in layer_arg_names order.
std::vector<int64_t> case_args(const Conv2dShape& s, int64_t batch);
std::vector<int64_t> case_args(const LinearShape& s, int64_t batch);
std::vector<int64_t> case_args(const BatchNorm2dShape& s, int64_t batch);
std::vector<int64_t> case_args(const ActivationShape& s, int64_t batch);
std::vector<int64_t> case_args(const LayerNorm2dShape& s, int64_t batch);
std::vector<int64_t> case_args(const ChannelShuffleShape& s, int64_t batch);
std::vector<int64_t> case_args(const SqueezeExcitationShape& s, int64_t batch);
std::vector<int64_t> case_args(const CaseShape& s, int64_t batch);

// A layer case as the reader names it (kind and arguments by name), as a shape and a batch;
// nullopt for a kind this format has not, or arguments missing or not positive.
struct LayerCase {
  CaseShape shape;
  int64_t batch = 0;
};
std::optional<LayerCase> layer_case(std::string_view kind, const std::map<std::string, int64_t>& args);

}  // namespace p4s::results
