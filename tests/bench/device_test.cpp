// Which device the cases run on, without and with CUDA, and what --p4s_mem_limit becomes on a
// GPU; and, in this build, that the CUDA path reports itself as it is.
#include <gtest/gtest.h>

#include <string>

#include "bench/cuda_device.hpp"
#include "bench/device.hpp"
#include "bench/options.hpp"

namespace p4s::bench {
namespace {

std::string error_of(const std::optional<DeviceChoice>& asked, const CudaStatus& cuda) {
  try {
    resolve_device(asked, cuda);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const CudaStatus kNoCudaBuild{false, 0, "this bench was built without the CUDA path"};
const CudaStatus kNoDevice{true, 0, "cudaGetDeviceCount: cudaErrorNoDevice (no CUDA-capable device is detected)"};
const CudaStatus kTwoGpus{true, 2, ""};

TEST(Device, DefaultIsCudaWhereUsableElseTheCpu) {
  EXPECT_FALSE(resolve_device(std::nullopt, kNoCudaBuild).cuda());
  EXPECT_FALSE(resolve_device(std::nullopt, kNoDevice).cuda());
  const ResolvedDevice d = resolve_device(std::nullopt, kTwoGpus);
  EXPECT_TRUE(d.cuda());
  EXPECT_EQ(d.index, 0);
  EXPECT_EQ(d.name(), "cuda");
  EXPECT_EQ(resolve_device(std::nullopt, kNoDevice).name(), "cpu");
}

TEST(Device, AskedForIsWhatRunsOrAnErrorNamingTheFlag) {
  EXPECT_FALSE(resolve_device(DeviceChoice{DeviceKind::kCpu, 0}, kTwoGpus).cuda());
  const ResolvedDevice second = resolve_device(DeviceChoice{DeviceKind::kCuda, 1}, kTwoGpus);
  EXPECT_TRUE(second.cuda());
  EXPECT_EQ(second.index, 1);
  EXPECT_EQ(second.name(), "cuda");  // the index is a context key of its own

  EXPECT_EQ(error_of(DeviceChoice{DeviceKind::kCuda, 0}, kNoCudaBuild),
            "--p4s_device=cuda: no CUDA device can be used here: this bench was built without the CUDA path");
  EXPECT_EQ(error_of(DeviceChoice{DeviceKind::kCuda, 0}, kNoDevice).rfind("--p4s_device=cuda: no CUDA device", 0), 0u);
  EXPECT_EQ(error_of(DeviceChoice{DeviceKind::kCuda, 2}, kTwoGpus),
            "--p4s_device=cuda:2: there are 2 CUDA devices here, numbered from 0");
  EXPECT_EQ(error_of(DeviceChoice{DeviceKind::kCuda, 1}, CudaStatus{true, 1, ""}),
            "--p4s_device=cuda:1: there is 1 CUDA device here, numbered from 0");
}

TEST(Device, MemoryLimitIsAFractionOfTheGpu) {
  const int64_t h100 = int64_t{85} << 30;
  EXPECT_DOUBLE_EQ(memory_fraction_for_limit(h100 / 4, h100), 0.25);
  EXPECT_DOUBLE_EQ(memory_fraction_for_limit(h100, h100), 1.0);
  // The allocator multiplies back: the limit it enforces is within a byte of the one asked for.
  const int64_t limit = (int64_t{8} << 30) + 12345;
  const double f = memory_fraction_for_limit(limit, h100);
  EXPECT_NEAR(f * static_cast<double>(h100), static_cast<double>(limit), 1.0);
  try {
    memory_fraction_for_limit(h100 + 1, h100);
    ADD_FAILURE() << "a limit above the GPU's memory was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--p4s_mem_limit=" + std::to_string(h100 + 1) + ": more than the GPU's " + std::to_string(h100) +
                  " bytes of memory");
  }
}

TEST(Device, CudaStatusOfThisBuildIsConsistent) {
  const CudaStatus s = cuda_status();
#ifdef P4S_TEST_HAVE_CUDA
  EXPECT_TRUE(s.built);
#else
  EXPECT_FALSE(s.built);
  EXPECT_EQ(s.device_count, 0);
  EXPECT_THROW(CudaDevice::open(0), std::runtime_error);
#endif
  EXPECT_EQ(s.usable(), s.built && s.device_count > 0);
  if (!s.usable()) {
    EXPECT_FALSE(s.reason.empty());
  }
}

}  // namespace
}  // namespace p4s::bench
