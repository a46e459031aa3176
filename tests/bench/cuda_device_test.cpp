// The CUDA path's parts on a real GPU: event timing, the caching allocator's peaks, the device's
// used memory, the memory fraction and CUDA's out-of-memory error as the bench reports it, and
// the device's facts. Always compiled; skipped, with the reason, where no GPU can be used.
#include <gtest/gtest.h>

#include <ATen/ops/empty.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/randn.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

#include "bench/cuda_device.hpp"
#include "bench/device_memory_meter.hpp"
#include "bench/run_case.hpp"

namespace p4s::bench {
namespace {

class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CudaStatus s = cuda_status();
    if (!s.usable()) GTEST_SKIP() << "no usable CUDA device: " << s.reason;
    device_ = CudaDevice::open(0);
  }
  at::TensorOptions on_gpu() const { return at::TensorOptions().device(c10::Device(c10::kCUDA, 0)); }
  std::unique_ptr<CudaDevice> device_;
};

TEST_F(CudaDeviceTest, EventTimerTimesTheDevicesWork) {
  const at::Tensor a = at::randn({4096, 4096}, on_gpu());
  StepTimer& timer = device_->timer();
  timer.start();
  const auto host_start = std::chrono::steady_clock::now();
  at::Tensor c;
  for (int i = 0; i < 20; ++i) c = at::matmul(a, a);
  const double seconds = timer.stop_seconds();
  const double host = std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  EXPECT_GT(seconds, 0.0);
  // The launches return at once; the events see the device finish, as the host's wait does.
  EXPECT_LE(seconds, host * 1.05 + 1e-4);
  EXPECT_GT(seconds, host * 0.5);
}

TEST_F(CudaDeviceTest, MeterSeesTheAllocatorsPeaksAboveTheLevelBeforeTheBuild) {
  DeviceMemorySource& source = device_->memory();
  DeviceMemoryMeter meter(source);
  meter.before_build();
  source.reset_peaks();  // the peak is now what is live: tensors earlier tests left, if any
  const int64_t live_before = source.peaks().allocated_bytes;
  at::Tensor weights = at::empty({64 << 20}, on_gpu().dtype(at::kByte));  // 64 MiB
  meter.before_measure();
  for (int step = 0; step < 2; ++step) {
    at::Tensor activation = at::empty({32 << 20}, on_gpu().dtype(at::kByte));  // freed each step
    meter.after_step();
  }
  const MemoryCounters c = meter.after_measure();
  EXPECT_EQ(c.mem_alloc, live_before + (64 << 20) + (32 << 20));
  ASSERT_TRUE(c.mem_reserved.has_value());
  EXPECT_GE(*c.mem_reserved, c.mem_alloc);
  // The 96 MiB of segments stay reserved between the steps, so the device holds them.
  EXPECT_GE(c.mem_used, int64_t{96} << 20);
  weights.reset();
  const int64_t used_cached = source.device_used_bytes();
  meter.after_case();  // empties the cache: the segments go back to the device
  EXPECT_LE(source.device_used_bytes(), used_cached - (int64_t{96} << 20));
}

TEST_F(CudaDeviceTest, MemoryFractionMakesALargeAllocationAnOutOfMemoryFailure) {
  const int64_t total = device_->total_memory_bytes();
  device_->set_memory_fraction(memory_fraction_for_limit(int64_t{256} << 20, total));
  std::exception_ptr failure;
  try {
    at::Tensor t = at::empty({int64_t{512} << 20}, on_gpu().dtype(at::kByte));
  } catch (...) {
    failure = std::current_exception();
  }
  device_->set_memory_fraction(1.0);
  device_->memory().empty_cache();
  ASSERT_TRUE(failure) << "512 MiB were allocated under a 256 MiB limit";
  EXPECT_TRUE(is_out_of_memory(failure));
  EXPECT_EQ(failure_message(failure).rfind("out of memory: ", 0), 0u) << failure_message(failure);
  // The device is usable afterwards.
  EXPECT_NO_THROW(static_cast<void>(at::empty({int64_t{512} << 20}, on_gpu().dtype(at::kByte))));
}

TEST_F(CudaDeviceTest, InfoDescribesTheGpuAndItsSoftware) {
  const GpuInfo g = device_->info();
  EXPECT_FALSE(g.name.empty());
  EXPECT_NE(g.driver, "");
  EXPECT_NE(g.cuda.find('.'), std::string::npos);
  EXPECT_NE(g.cuda_driver.find('.'), std::string::npos);
  EXPECT_NE(g.compute_capability.find('.'), std::string::npos);
  EXPECT_EQ(g.memory_bytes, device_->total_memory_bytes());
  EXPECT_FALSE(g.cudnn.empty());
  EXPECT_FALSE(g.allocator.empty());
  std::cout << "GPU: " << g.name << ", driver " << g.driver << ", CUDA " << g.cuda << " (driver supports "
            << g.cuda_driver << "), cuDNN " << g.cudnn << ", compute capability " << g.compute_capability
            << ", " << g.memory_bytes << " bytes, allocator " << g.allocator << "\n";
}

}  // namespace
}  // namespace p4s::bench
