// Which runtime/driver calls count as launching work, by name.
#include <gtest/gtest.h>

#include "cupti/launch_calls.hpp"

namespace p4s::cupti {
namespace {

TEST(LaunchCalls, KernelCopyMemsetAndGraphLaunches) {
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kRuntime, "cudaLaunchKernel_v7000"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kRuntime, "cudaLaunchKernelExC_ptsz_v11060"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kRuntime, "cudaMemcpyAsync_v3020"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kRuntime, "cudaMemset2DAsync_ptsz_v7000"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kRuntime, "cudaGraphLaunch_v10000"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kDriver, "cuLaunchKernel"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kDriver, "cuLaunchKernelEx_ptsz"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kDriver, "cuMemcpyDtoHAsync_v2"));
  EXPECT_TRUE(is_work_launch_call(ApiDomain::kDriver, "cuMemsetD8_v2"));
}

TEST(LaunchCalls, NotHostFunctionsNorOtherCallsNorTheOtherDomainsNames) {
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kRuntime, "cudaLaunchHostFunc_v10000"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kDriver, "cuLaunchHostFunc"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kRuntime, "cudaGetDevice_v3020"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kRuntime, "cudaMalloc_v3020"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kDriver, "cuMemAlloc_v2"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kRuntime, "cuLaunchKernel"));
  EXPECT_FALSE(is_work_launch_call(ApiDomain::kDriver, "cudaLaunchKernel_v7000"));
}

}  // namespace
}  // namespace p4s::cupti
