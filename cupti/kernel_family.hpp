// Which algorithm family a kernel belongs to, read from its name. The rules were built from the
// kernel names that cuDNN 9, cuBLAS/cuBLASLt 13 and PyTorch actually launch (see
// tests/cupti/kernel_family_test.cpp for the table); a name no rule knows is kOther.
#pragma once

#include <string>
#include <string_view>

namespace p4s::cupti {

enum class KernelFamily {
  kImplicitGemm,  // convolution as implicit GEMM: cuDNN xmma/cutlass fprop/dgrad/wgrad, *cudnn_*
  kGemm,          // GEMM/GEMV and BLAS-3 kernels; explicit-GEMM convolution (im2col + GEMM)
  kWinograd,      // Winograd convolution (fused and non-fused transforms)
  kFft,           // FFT convolution and cuFFT
  kDirectConv,    // direct and depthwise convolution, cuDNN's non-GEMM dgrad/wgrad engines
  kElementwise,   // pointwise ops, copies, fills, layout transforms, optimizer updates
  kReduction,     // reductions, softmax, losses
  kBatchNorm,     // batch normalization, forward and backward
  kOther,         // pooling and anything unrecognized
};
inline constexpr KernelFamily kAllKernelFamilies[] = {
    KernelFamily::kImplicitGemm, KernelFamily::kGemm,        KernelFamily::kWinograd,
    KernelFamily::kFft,          KernelFamily::kDirectConv,  KernelFamily::kElementwise,
    KernelFamily::kReduction,    KernelFamily::kBatchNorm,   KernelFamily::kOther};
inline constexpr size_t kKernelFamilyCount = sizeof(kAllKernelFamilies) / sizeof(KernelFamily);

// "implicit_gemm", "gemm", "winograd", "fft", "direct_conv", "elementwise", "reduction",
// "batchnorm", "other".
std::string_view family_name(KernelFamily family);
// The family of that name; kOther for an unknown name.
KernelFamily family_from_name(std::string_view name);

// The family of a kernel, from its (demangled or plain) name. Case does not matter.
KernelFamily classify_kernel(std::string_view kernel_name);

// The demangled form of an Itanium-mangled name ("_ZN2at6native..."); other names unchanged.
std::string demangle_kernel_name(const char* name);

}  // namespace p4s::cupti
