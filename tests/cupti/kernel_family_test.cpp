// The kernel-family classifier over real kernel names: names registered in cuDNN 9 and
// cuBLAS/cuBLASLt 13 (read from the libraries' kernel tables, demangled as CUPTI's mangled
// names are by demangle_kernel_name), names from public PyTorch profiles (nvprof and
// torch.profiler tables), and PyTorch kernels written out from their signatures.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cupti/kernel_family.hpp"

namespace p4s::cupti {
namespace {

struct Case {
  const char* name;
  KernelFamily family;
};

const std::vector<Case>& real_kernel_names() {
  using F = KernelFamily;
  static const std::vector<Case> cases = {
      // Implicit GEMM convolution: cuDNN's xmma and cutlass engines, and its *cudnn_* kernels.
      {"sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_nhwc_tilesize128x256x64_"
       "warpgroupsize2x1x1_g1_execute_segment_k_off_kernel__5x_cudnn",
       F::kImplicitGemm},
      {"sm90_xmma_dgrad_implicit_gemm_indexed_bf16bf16_bf16f32_f32_nhwckrsc_nhwc_tilesize256x128x64_"
       "warpgroupsize2x1x1_g1_strided_execute_kernel__5x_cudnn",
       F::kImplicitGemm},
      {"sm80_xmma_wgrad_implicit_gemm_indexed_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize64x32x64_"
       "stage5_warpsize2x2x1_g1_tensor16x8x16",
       F::kImplicitGemm},
      {"sm80_xmma_fprop_implicit_gemm_tf32f32_tf32f32_f32_nhwckrsc_nchw_tilesize64x32x64_stage5_"
       "warpsize2x2x1_g1_tensor16x8x8_alignc4_execute_kernel__5x_cudnn",
       F::kImplicitGemm},
      {"sm75_xmma_fprop_implicit_gemm_indexed_wo_smem_f16f16_f16f32_f32_nhwckrsc_nhwc_"
       "tilesize128x32x16_stage1_warpsize4x1x1_g1_tensor16x8x8_aligna4_alignc8",
       F::kImplicitGemm},
      {"void cutlass__5x_cudnn::Kernel<cutlass_tensorop_s1688fprop_analytic_tf32_64x64_32x5_nhwc_"
       "align4>(cutlass_tensorop_s1688fprop_analytic_tf32_64x64_32x5_nhwc_align4::Params)",
       F::kImplicitGemm},
      {"void cutlass__5x_cudnn::Kernel<cutlass_tensorop_bf16_s16816wgrad_analytic_bf16_64x256_32x4_"
       "nhwc_align8>(cutlass_tensorop_bf16_s16816wgrad_analytic_bf16_64x256_32x4_nhwc_align8::"
       "Params)",
       F::kImplicitGemm},
      {"cutlass_tensorop_s1688dgrad_optimized_tf32_128x256_16x3_nhwc_unity_stride_align4",
       F::kImplicitGemm},
      {"cutlass3x_sm100_tensorop_s64x64x16implicit_gemm_fprop_f16_f16_f32_f16_f16_f32_64x64x64_dyn_"
       "cga_ndhwc_ndhwc_ndhwc_align8_1sm_swish",
       F::kImplicitGemm},
      {"cutlass3x_sm100_tensorop_s128x64x16_conv2d_fprop_bn_stat_f16_f16_f32_f16_128x64x64_dyn_cga_"
       "ndhwc_ndhwc_ndhwc_assistant_det_2sm_assistant",
       F::kImplicitGemm},
      {"ampere_scudnn_128x64_relu_small_nn_v1", F::kImplicitGemm},
      {"ampere_scudnn_128x128_stridedB_splitK_interior_nn_v1", F::kImplicitGemm},
      {"ampere_fp16_s16816cudnn_fp16_64x128_ldg8_relu_f2f_exp_stages_64x3_large_nhwc_tn_v1",
       F::kImplicitGemm},
      {"volta_fp16_s884cudnn_fp16_256x128_ldg8_relu_f2f_exp_small_nhwc2nchw_tn_v1",
       F::kImplicitGemm},
      {"turing_scudnn_128x32_stridedB_splitK_small_nn_v1", F::kImplicitGemm},
      {"void implicit_convolve_sgemm<__nv_bfloat16, __nv_bfloat16, 1024, 5, 5, 3, 3, 3, 1, false, "
       "true, false>(int, int, int, __nv_bfloat16 const*, int, __nv_bfloat16*, __nv_bfloat16 "
       "const*, kernel_conv_params, unsigned long long, int, float, float, int, __nv_bfloat16 "
       "const*, __nv_bfloat16 const*, bool, bool, int, int)",
       F::kImplicitGemm},
      {"void cudnn::detail::implicit_convolve_sgemm<float, float, int=1024, int=5, int=5, int=3, "
       "int=3, int=3, int=1, bool=1, bool=0, bool=1>(int, int, int, float const *, int, float*, "
       "float*, kernel_conv_params, int, float, float, int, float, float, int, int)",
       F::kImplicitGemm},
      {"void precomputed_convolve_sgemm<__half, 1024, 5, 5, 4, 3, 3, 1, true>(int, int, int, "
       "__half const*, int, __half*, __half const*, kernel_conv_params, unsigned long long, int, "
       "float, float, int, bool, bool, __half const*, __half const*, int*)",
       F::kImplicitGemm},

      // GEMM: cuBLAS/cuBLASLt kernels, and convolution as an explicit GEMM.
      {"ampere_sgemm_128x64_nn", F::kGemm},
      {"volta_sgemm_64x32_sliced1x4_tn", F::kGemm},
      {"ampere_h16816gemm_256x64_ldg8_relu_stages_64x3_nt", F::kGemm},
      {"turing_fp16_s1688gemm_fp16_128x128_ldg8_f2f_nn", F::kGemm},
      {"ampere_cgemm_32x32_nc", F::kGemm},
      {"sm90_xmma_gemm_f16f16_f16f32_f32_nn_n_tilesize128x128x64_cgasize1x1x1_warpgroupsize1x1x1_"
       "aux_bool_aligna4_alignc4_drelu_execute_segment_k_on_kernel__5x_cublas",
       F::kGemm},
      {"sm80_xmma_gemm_f32f32_tf32f32_f32_tt_n_tilesize64x32x64_stage5_warpsize2x2x1_tensor16x8x8_"
       "aligna4_alignc4_execute_kernel__5x_cublas",
       F::kGemm},
      {"void cutlass::Kernel2<cutlass_80_tensorop_s1688gemm_grouped_128x128_16x6_align4>(cutlass_80_"
       "tensorop_s1688gemm_grouped_128x128_16x6_align4::Params)",
       F::kGemm},
      {"void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x128_64x4_tt_align8>("
       "cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x128_64x4_tt_align8::Params)",
       F::kGemm},
      {"void gemmk1_kernel<long, float, 256, 5, true, false, true, false, "
       "cublasGemvTensorStridedBatched<signed char const>, cublasGemvTensorStridedBatched<float "
       "const>, cublasGemvTensorStridedBatched<float>, float, 10>(cublasGemmk1Params<float, "
       "cublasGemvTensorStridedBatched<signed char const>, cublasGemvTensorStridedBatched<float "
       "const>, cublasGemvTensorStridedBatched<float>, float>)",
       F::kGemm},
      {"void gemv2N_kernel<long, long, signed char, float, float, float, 128, 1, 2, 2, 11, true, "
       "cublasGemvParamsEx<int, cublasGemvTensorStridedBatched<signed char const>, "
       "cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, float> "
       ">(cublasGemvParamsEx<int, cublasGemvTensorStridedBatched<signed char const>, "
       "cublasGemvTensorStridedBatched<float const>, cublasGemvTensorStridedBatched<float>, "
       "float>)",
       F::kGemm},
      {"void cublasLt::splitKreduce_kernel<8, 32, int, float, float, float, float, true, float, "
       "float, float, false, false, false, false>(cublasLt::cublasSplitKParams<float>, float "
       "const*, float const*, float*, float*, float const*, float const*, float const*, float "
       "const*, float*, void*, long, float*, int*, float*, float*, float const*, float const*, "
       "float const*, float const*, float const*)",
       F::kGemm},
      {"void splitKreduce_kernel<__half, __half, float>(cublasSplitKParams<__half>, __half const*, "
       "__half const*, __half*, float const*, float const*)",
       F::kGemm},
      {"void explicit_convolve_sgemm<__nv_bfloat16, int, 1024, 5, 5, 3, 3, 3, 0, true>(int, int, "
       "int, __nv_bfloat16 const*, int, __nv_bfloat16 const*, int, __nv_bfloat16*, "
       "kernel_conv_params, unsigned long long, int, unsigned long long, int, float, float, int, "
       "bool, bool, __nv_bfloat16 const*, __nv_bfloat16 const*)",
       F::kGemm},
      {"void at::native::(anonymous namespace)::im2col_kernel<float>(long, float const*, long, long, "
       "long, long, long, long, long, long, long, long, long, long, float*)",
       F::kGemm},

      // Winograd.
      {"void cudnn::winograd_nonfused::winogradForwardData4x4<float, __nv_bfloat16>(cudnn::"
       "winograd_nonfused::WinogradDataParams<float, __nv_bfloat16>)",
       F::kWinograd},
      {"void cudnn::winograd_nonfused::winogradWgradOutput9x9_5x5<float, float>(cudnn::winograd_"
       "nonfused::WinogradOutputParams<float, float>)",
       F::kWinograd},
      {"volta_scudnn_winograd_128x128_ldg1_ldg4_relu_tile148t_nt_v1", F::kWinograd},
      {"void cudnn::winograd::generateWinogradTilesKernel<0, float, float>(cudnn::winograd::"
       "GenerateWinogradTilesParams<float, float>)",
       F::kWinograd},

      // FFT.
      {"void fft2d_r2c_32x32<__half, true, 0u, false>(float2*, __half const*, int, int, int, int, "
       "int, int, int, int, int, cudnn::reduced_divisor, bool, int2, int, int)",
       F::kFft},
      {"void fft2d_c2r_32x32<__half, true, true, 0u, false, true>(__half*, float2 const*, int, int, "
       "int, int, int, int, int, int, int, float, float, cudnn::reduced_divisor, bool, __half*, "
       "__half*, int2, cudnnActivationStruct, int, int)",
       F::kFft},
      {"void fft1d_r2c_32<double, double, double2, true, false>(double2*, double const*, int, int3, "
       "int3, int2, int2)",
       F::kFft},
      {"void DSE::vector_fft<1, 2, 256, 16, 16, 1, __half, float, float2>(float2*, float2*, int, "
       "int3, int3)",
       F::kFft},

      // Direct and depthwise convolution, cuDNN's non-GEMM dgrad/wgrad engines.
      {"void cudnn::cnn::conv2d_grouped_direct_kernel<false, false, true, false, false, false, 0, "
       "0, int, int, char32, signed char, char32, float, float>(cudnn::cnn::GroupedDirectFpropParams, "
       "char32 const*, char32 const*, signed char*, float, float, float const*, float const*, "
       "signed char const*, float const*, cudnnActivationStruct)",
       F::kDirectConv},
      {"void cudnn::cnn::dgrad2d_grouped_direct_kernel<double, int, double, double, false, true, 4, "
       "3>(cudnn::cnn::DgradGroupedDirectParams, double const*, double const*, double*, double, "
       "double)",
       F::kDirectConv},
      {"void cudnn::detail::dgrad_engine<float, 512, 6, 5, 3, 3, 3, true>(int, int, int, float "
       "const*, int, float const*, int, float*, kernel_grad_params, unsigned long long, int, "
       "unsigned long long, int, float, int, int, int)",
       F::kDirectConv},
      {"void cudnn::detail::dgrad2d_alg1_1<float, 0, 4, 6, 3, 2, 4, true, false>(int, int, int, "
       "float const*, int, float const*, int, float*, kernel_grad_params, unsigned long long, int, "
       "unsigned long long, int, float, int, int)",
       F::kDirectConv},
      {"void wgrad_alg0_engine<float, 512, 6, 5, 3, 3, 3, true, 512>(int, int, int, float const*, "
       "int, float*, float const*, kernel_grad_params, unsigned long long, int, float, int, int, "
       "int, int)",
       F::kDirectConv},
      {"void cudnn::detail::wgrad_alg0_engine<float, int=128, int=6, int=8, int=3, int=3, int=5, "
       "bool=1, int=512>(int, int, int, float const *, int, float*, float const , "
       "kernel_grad_params, int, float, int, int, int, int)",
       F::kDirectConv},
      {"void convolve_common_engine_float_NHWC<float, float, 1024, 5, 5, 3, 3, 3, true, true, true, "
       "false, false>(int, int, int, float const*, float const*, int, float*, "
       "conv_kernel_common_params, unsigned long long, unsigned long, float, float, bool, float "
       "const*, float const*, bool, bool)",
       F::kDirectConv},
      {"sm80_xmma_depthwise_convolution_fprop_tiling_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize1x8x8_"
       "1x5x5_1x2x2_1x1x1_stage2_warpsize4x1x1_g32_betaFalse",
       F::kDirectConv},
      {"void at::native::(anonymous namespace)::conv_depthwise2d_forward_kernel<1, float, int>(at::"
       "GenericPackedTensorAccessor<float const, 4ul, at::DefaultPtrTraits, int>, at::"
       "GenericPackedTensorAccessor<float, 4ul, at::DefaultPtrTraits, int>, at::"
       "GenericPackedTensorAccessor<float const, 4ul, at::DefaultPtrTraits, int>, at::"
       "GenericPackedTensorAccessor<float const, 1ul, at::DefaultPtrTraits, int>, bool, int, int, "
       "int, int, int, int, int, int, int, int, int, int, int, int, int)",
       F::kDirectConv},

      // Elementwise: pointwise ops, copies and fills, layout transforms, optimizer updates.
      {"void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, "
       "at::detail::Array<char*, 1> >(int, at::native::FillFunctor<float>, at::detail::Array<char*, "
       "1>)",
       F::kElementwise},
      {"void at::native::vectorized_elementwise_kernel<int=4, at::native::BinaryFunctor<float, "
       "float, float, at::native::AddFunctor<float>>, at::detail::Array<char*, int=3>>(int, float, "
       "float)",
       F::kElementwise},
      {"void at::native::unrolled_elementwise_kernel<at::native::DivFunctor<float>, at::detail::"
       "Array<char*, int=3>, OffsetCalculator<int=2, unsigned int>, OffsetCalculator<int=1, "
       "unsigned int>, at::native::memory::LoadWithoutCast, at::native::memory::StoreWithoutCast>("
       "int, float, at::native::DivFunctor<float>, char*, int=3, at::detail::Array<char*, int=3>, "
       "int=2)",
       F::kElementwise},
      {"void at::native::elementwise_kernel<128, 4, at::native::gpu_kernel_impl_nocast<at::native::"
       "direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda("
       ")#7}::operator()() const::{lambda(float)#1}>(at::TensorIteratorBase&, at::native::direct_"
       "copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()#7}::"
       "operator()() const::{lambda(float)#1} const&)::{lambda(int)#1}>(int, at::native::gpu_"
       "kernel_impl_nocast<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()"
       "#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1}>(at::"
       "TensorIteratorBase&, at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda("
       ")#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1} const&)::{"
       "lambda(int)#1})",
       F::kElementwise},
      {"void at::native::(anonymous namespace)::multi_tensor_apply_kernel<at::native::(anonymous "
       "namespace)::TensorListMetadata<3>, at::native::(anonymous namespace)::"
       "PointwiseOpScalarFunctor<float, 3, 2, 0>, std::multiplies<float>, float>(at::native::("
       "anonymous namespace)::TensorListMetadata<3>, at::native::(anonymous namespace)::"
       "PointwiseOpScalarFunctor<float, 3, 2, 0>, std::multiplies<float>, float)",
       F::kElementwise},
      {"void at::native::(anonymous namespace)::CatArrayBatchedCopy<float, unsigned int, 4, 64, 64>("
       "float*, at::native::(anonymous namespace)::CatArrInputTensorMetadata<float, unsigned int, "
       "64, 64>, at::native::(anonymous namespace)::TensorSizeStride<unsigned int, 4u>, int, "
       "unsigned int)",
       F::kElementwise},
      {"void kernelPointwiseApply2<ThresholdUpdateOutput<at::Half>, at::Half, at::Half, unsigned "
       "int, int=1, int=1>(OffsetInfo<ThresholdUpdateOutput<at::Half>, at::Half, unsigned int>, "
       "OffsetInfo<at::Half, at::Half, int=1>, at::Half, at::Half)",
       F::kElementwise},
      {"void op_generic_tensor_kernel<5, signed char, float, signed char, 256, "
       "(cudnnGenericOp_t)18, (cudnnNanPropagation_t)0, 3>(cudnnTensorStruct, signed char*, "
       "cudnnTensorStruct, signed char const*, cudnnTensorStruct, signed char const*, float, "
       "float, float, cudnnActivationStruct, reducedDivisorArray, int)",
       F::kElementwise},
      {"void cudnn::engines_precompiled::nchwToNhwcKernel<__nv_bfloat16, __nv_bfloat16, float, "
       "true, true, (cudnnKernelDataType_t)2>(cudnn::engines_precompiled::nchw2nhwc_params_t<"
       "float>, __nv_bfloat16 const*, __nv_bfloat16*)",
       F::kElementwise},
      {"void cudnn::engines_precompiled::transposeDirect_kernel<__nv_bfloat16, __nv_bfloat16, "
       "float>(float, cudnnTensorStruct, __nv_bfloat16 const*, cudnnTensorStruct, __nv_bfloat16*)",
       F::kElementwise},
      {"void cudnn::engines_precompiled::convertTensor_kernel<__nv_bfloat16, __nv_bfloat16, float, "
       "(cudnnKernelDataType_t)2>(float, __nv_bfloat16 const*, float, __nv_bfloat16*, unsigned "
       "long)",
       F::kElementwise},
      {"void cudnn::detail::cubeTransposeDeviceGeneric_kernel<__nv_bfloat16, __nv_bfloat16, float, "
       "8, 8, 8, 13, 13, 11, 2>(int, int, int, int, int, int, int, int, int, float, __nv_bfloat16 "
       "const*, __nv_bfloat16*)",
       F::kElementwise},
      {"void cudnn::dropout_fp<double, double, -1, 2, 1>(double const*, cudnnTensorStruct, double*, "
       "cudnnTensorStruct, float, curandStateXORWOW*, unsigned int*, int)",
       F::kElementwise},

      // Reductions, softmax, losses.
      {"void at::native::reduce_kernel<int=512, int=1, at::native::ReduceOp<float, at::native::"
       "ArgMaxOps<float>, unsigned int, long, int=4>>(float)",
       F::kReduction},
      {"void _GLOBAL__N__54_tmpxft_0000234c_00000000_11_SoftMax_compute_75_cpp1_ii_a3310042::"
       "softmax_warp_forward<float, float, float, int=6, bool=0>(float*, float const *, int, int, "
       "int)",
       F::kReduction},
      {"void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, at::"
       "native::(anonymous namespace)::LogSoftMaxForwardEpilogue>(float*, float const*, int)",
       F::kReduction},
      {"void at::native::(anonymous namespace)::nll_loss_forward_reduce_cuda_kernel_2d<float, float, "
       "long>(float*, float*, float const*, long const*, float const*, bool, long, long, long, "
       "long)",
       F::kReduction},
      {"void at_cuda_detail::cub::DeviceReduceSingleTileKernel<at_cuda_detail::cub::"
       "DeviceReducePolicy<float, int, at_cuda_detail::cub::Sum>::Policy600, float*, float*, int, "
       "at_cuda_detail::cub::Sum, float>(float*, float*, int, at_cuda_detail::cub::Sum, float)",
       F::kReduction},
      {"void cudnn::ops::softmax_fw_kernel<3, __nv_bfloat16, float, 256, 2, 1, 1>(cudnnTensorStruct, "
       "__nv_bfloat16 const*, cudnnTensorStruct, __nv_bfloat16*, int, float, float, int, int)",
       F::kReduction},

      // Batch normalization.
      {"void cudnn::bn_fw_tr_1C11_kernel_NCHW<__nv_bfloat16, float, long, 512, false, 2, false>("
       "cudnnTensorStruct, __nv_bfloat16 const*, cudnnTensorStruct, __nv_bfloat16*, float const*, "
       "float const*, float, float, float*, float*, float*, float*, float, float)",
       F::kBatchNorm},
      {"void cudnn::bn_bw_1C11_kernel_new<__nv_bfloat16, float, float2, 512, false, 3>(float, float, "
       "float, float, cudnnTensorStruct, __nv_bfloat16 const*, cudnnTensorStruct, __nv_bfloat16 "
       "const*, cudnnTensorStruct, __nv_bfloat16*, float const*, float*, float*, float const*, "
       "float const*, float)",
       F::kBatchNorm},
      {"void cudnn::detail::bn_fw_tr_1CHW_kernel_new<float, float, bool=1, int=4>(float, cudnnTensorStruct)",
       F::kBatchNorm},
      {"void cudnn::batchnorm_fwtr_nhwc_semiPersist<float, float, float, 512, 16, 2, 1, 1, 0, false, "
       "true, false, 1>(cudnn::NhwcBatchNormFwdParams<float, float>)",
       F::kBatchNorm},
      {"void at::native::batch_norm_collect_statistics_kernel<at::native::InvStd, float, float, "
       "float, int>(at::GenericPackedTensorAccessor<float const, 3ul, at::RestrictPtrTraits, int>, "
       "float, float, at::GenericPackedTensorAccessor<float, 1ul, at::RestrictPtrTraits, int>, "
       "at::GenericPackedTensorAccessor<float, 1ul, at::RestrictPtrTraits, int>)",
       F::kBatchNorm},
      {"void at::native::batch_norm_backward_reduce_kernel<float, float, float, int>(at::"
       "GenericPackedTensorAccessor<float const, 3ul, at::DefaultPtrTraits, int>)",
       F::kBatchNorm},

      // Other: pooling and the unknown.
      {"void cudnn::pooling_fw_kernel_max_nhwc<__nv_bfloat16, float, 7, (cudnnNanPropagation_t)1, "
       "true>(cudnn::PoolingParams, __nv_bfloat16*, __nv_bfloat16 const*, float, float, int)",
       F::kOther},
      {"void at::native::(anonymous namespace)::max_pool_forward_nchw<float, float>(int, float "
       "const*, long, long, long, int, int, int, int, int, int, int, int, int, int, float*, long*)",
       F::kOther},
      {"void at::native::(anonymous namespace)::adaptive_average_pool<float>(float const*, float*, "
       "int, int, int, int, long, long, long)",
       F::kOther},
      {"p4s_selftest_scale", F::kOther},
  };
  return cases;
}

TEST(KernelFamily, ClassifiesRealKernelNames) {
  for (const Case& c : real_kernel_names()) {
    EXPECT_EQ(family_name(classify_kernel(c.name)), family_name(c.family)) << c.name;
  }
}

TEST(KernelFamily, EveryFamilyIsCoveredByTheTable) {
  for (KernelFamily f : kAllKernelFamilies) {
    int n = 0;
    for (const Case& c : real_kernel_names()) n += c.family == f ? 1 : 0;
    EXPECT_GE(n, 4) << family_name(f);
  }
}

TEST(KernelFamily, CaseDoesNotMatter) {
  EXPECT_EQ(classify_kernel("AMPERE_SGEMM_128X64_NN"), KernelFamily::kGemm);
  EXPECT_EQ(classify_kernel("Volta_SCUDNN_Winograd_128x128"), KernelFamily::kWinograd);
}

TEST(KernelFamily, NamesRoundTrip) {
  for (KernelFamily f : kAllKernelFamilies) EXPECT_EQ(family_from_name(family_name(f)), f);
  EXPECT_EQ(family_from_name("no such family"), KernelFamily::kOther);
}

TEST(DemangleKernelName, DemanglesItaniumNamesAndKeepsOthers) {
  // Mangled names as CUPTI reports them (these are cuDNN's and cuBLAS's).
  EXPECT_EQ(demangle_kernel_name("_ZN5cudnn17winograd_nonfused22winogradForwardData4x4If13__nv_"
                                 "bfloat16EEvNS0_18WinogradDataParamsIT_T0_EE"),
            "void cudnn::winograd_nonfused::winogradForwardData4x4<float, __nv_bfloat16>(cudnn::"
            "winograd_nonfused::WinogradDataParams<float, __nv_bfloat16>)");
  const std::string dgrad = demangle_kernel_name(
      "_ZN5cudnn6detail12dgrad_engineIfLi512ELi6ELi5ELi3ELi3ELi3ELb1EEEviiiPKT_iS4_iPS2_18kernel_"
      "grad_paramsyiyifiii");
  EXPECT_EQ(dgrad.rfind("void cudnn::detail::dgrad_engine<float, 512, 6, 5, 3, 3, 3, true>(int, ", 0),
            0u)
      << dgrad;
  EXPECT_EQ(classify_kernel(dgrad), KernelFamily::kDirectConv);
  EXPECT_EQ(classify_kernel(demangle_kernel_name(
                "_ZN5cudnn25bn_fw_tr_1C11_kernel_NCHWI13__nv_bfloat16flLi512ELb0ELi2ELb0EEEv17cudnn"
                "TensorStructPKT_S2_PS3_PKT0_S9_S7_S7_PS7_SA_SA_SA_S7_S7_")),
            KernelFamily::kBatchNorm);
  EXPECT_EQ(demangle_kernel_name("ampere_sgemm_128x64_nn"), "ampere_sgemm_128x64_nn");
  EXPECT_EQ(demangle_kernel_name("_Znot a mangled name"), "_Znot a mangled name");
  EXPECT_EQ(demangle_kernel_name(nullptr), "");
}

}  // namespace
}  // namespace p4s::cupti
