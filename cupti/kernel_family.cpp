#include "cupti/kernel_family.hpp"

#include <cxxabi.h>

#include <cctype>
#include <cstdlib>
#include <initializer_list>

namespace p4s::cupti {
namespace {

bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool has_any(std::string_view s, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) {
    if (has(s, p)) return true;
  }
  return false;
}

// cuDNN's GEMM-based convolution kernels carry "<prefix>cudnn_" in their plain names:
// ampere_scudnn_128x64_relu_small_nn_v1, volta_fp16_s884cudnn_fp16_256x128_..., turing_hcudnn_...
bool has_cudnn_gemm_tag(std::string_view s) {
  for (size_t at = s.find("cudnn_"); at != std::string_view::npos; at = s.find("cudnn_", at + 1)) {
    if (at > 0 && std::isalnum(static_cast<unsigned char>(s[at - 1]))) return true;
  }
  return false;
}

bool is_implicit_gemm(std::string_view s) {
  if (has_any(s, {"implicit_gemm", "implicitgemm", "implicit_convolve", "precomputed_convolve",
                  "implicit_precomp"})) {
    return true;
  }
  const bool conv_pass = has_any(s, {"fprop", "dgrad", "wgrad"});
  if (has(s, "depthwise")) return false;
  // xmma and cutlass convolutions are implicit GEMMs (sm80_xmma_fprop_..., cutlass_tensorop_
  // s1688fprop_optimized_..., cutlass3x_sm100_tensorop_..._conv2d_fprop_...).
  if (has(s, "xmma") && conv_pass) return true;
  if (has(s, "cutlass") && (conv_pass || has_any(s, {"conv2d", "conv3d", "convolution"}))) {
    return true;
  }
  return has_cudnn_gemm_tag(s);
}

bool is_explicit_gemm_convolution(std::string_view s) {
  return has_any(s, {"explicit_convolve", "im2col", "col2im", "vol2col", "col2vol"});
}

bool is_direct_convolution(std::string_view s) {
  if (has(s, "depthwise")) return true;
  if (has(s, "_direct") && has_any(s, {"conv", "grad"})) return true;
  // What remains of dgrad/wgrad after the implicit-GEMM rules: cuDNN's engines
  // (dgrad_engine, dgrad2d_alg1_1, wgrad_alg0_engine, convolve_wgradNd_engine, ...).
  return has_any(s, {"dgrad", "wgrad", "convolution", "convolve", "conv2d", "conv3d", "convnd"});
}

bool is_gemm(std::string_view s) {
  return has_any(s, {"gemm", "gemv", "splitkreduce", "cublaslt::epilogue", "trsm", "trmm", "symm",
                     "hemm", "syrk", "herk", "syr2k", "her2k"});
}

bool is_batchnorm(std::string_view s) {
  return has_any(s, {"batch_norm", "batchnorm", "bn_fw", "bn_bw", "bn_pointwise"});
}

bool is_reduction(std::string_view s) {
  return has_any(s, {"reduce", "reduction", "softmax", "nll_loss", "classnll", "cross_entropy",
                     "argmax", "argmin", "logsumexp", "nrm2", "asum", "dot_kernel"});
}

bool is_pooling(std::string_view s) { return has_any(s, {"pool", "pooling"}); }

bool is_elementwise(std::string_view s) {
  return has_any(s, {"elementwise", "pointwise", "op_generic_tensor", "op_tensor",
                     "scalepackedtensor", "fill", "copy", "transpose", "nchwtonhwc", "nhwctonchw",
                     "folded", "addpadding", "converttensor", "tensortransform",
                     "multi_tensor_apply", "foreach", "dropout", "activation", "relu", "sigmoid",
                     "tanh", "threshold", "clamp", "geam", "scal_kernel", "axpy", "apply2",
                     "apply3", "sgd"});
}

}  // namespace

std::string_view family_name(KernelFamily family) {
  switch (family) {
    case KernelFamily::kImplicitGemm: return "implicit_gemm";
    case KernelFamily::kGemm: return "gemm";
    case KernelFamily::kWinograd: return "winograd";
    case KernelFamily::kFft: return "fft";
    case KernelFamily::kDirectConv: return "direct_conv";
    case KernelFamily::kElementwise: return "elementwise";
    case KernelFamily::kReduction: return "reduction";
    case KernelFamily::kBatchNorm: return "batchnorm";
    case KernelFamily::kOther: break;
  }
  return "other";
}

KernelFamily family_from_name(std::string_view name) {
  for (KernelFamily f : kAllKernelFamilies) {
    if (family_name(f) == name) return f;
  }
  return KernelFamily::kOther;
}

KernelFamily classify_kernel(std::string_view kernel_name) {
  std::string lower(kernel_name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // "(anonymous namespace)" would read as the start of a parameter list.
  for (size_t at = lower.find("(anonymous namespace)"); at != std::string::npos;
       at = lower.find("(anonymous namespace)", at)) {
    lower.replace(at, 21, "anonymous_namespace");
  }
  std::string_view full = lower;
  if (full.substr(0, 5) == "void ") full.remove_prefix(5);
  // Two views of a demangled name: without its parameter list (the template arguments say
  // which GEMM a cutlass::Kernel2<...> runs), and the kernel's own name alone (the functor in
  // vectorized_elementwise_kernel<4, ...batch_norm...> does not make it a batch norm).
  std::string_view with_templates = full;
  int depth = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    if (full[i] == '<') ++depth;
    if (full[i] == '>' && depth > 0) --depth;
    if (full[i] == '(' && depth == 0) {
      with_templates = full.substr(0, i);
      break;
    }
  }
  const std::string_view own = with_templates.substr(0, with_templates.find('<'));

  // Order matters: the specific convolution algorithms first (their names also say "gemm",
  // "relu" or "bn"), then GEMM, then the memory-bound families.
  const std::string_view s = with_templates;
  if (has(s, "winograd")) return KernelFamily::kWinograd;
  if (has(s, "fft")) return KernelFamily::kFft;
  if (is_implicit_gemm(s)) return KernelFamily::kImplicitGemm;
  if (is_explicit_gemm_convolution(s)) return KernelFamily::kGemm;
  if (is_direct_convolution(s)) return KernelFamily::kDirectConv;
  if (is_gemm(s)) return KernelFamily::kGemm;
  for (std::string_view view : {own, with_templates}) {
    if (is_batchnorm(view)) return KernelFamily::kBatchNorm;
    if (is_reduction(view)) return KernelFamily::kReduction;
    if (is_pooling(view)) return KernelFamily::kOther;
    if (is_elementwise(view)) return KernelFamily::kElementwise;
  }
  return KernelFamily::kOther;
}

std::string demangle_kernel_name(const char* name) {
  if (name == nullptr) return {};
  if (name[0] != '_' || name[1] != 'Z') return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) {
    std::free(out);
    return name;
  }
  std::string s(out);
  std::free(out);
  return s;
}

}  // namespace p4s::cupti
