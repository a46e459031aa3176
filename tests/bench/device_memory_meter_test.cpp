// The GPU memory meter on a fake allocator and device: when it empties the cache, resets the
// peaks and samples the device, and how the counters follow from what it read.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bench/device_memory_meter.hpp"

namespace p4s::bench {
namespace {

class FakeDevice final : public DeviceMemorySource {
 public:
  void empty_cache() override {
    calls += "e";
    used = in_use_by_others + live;  // the cached blocks go back
    reserved = live;
  }
  void reset_peaks() override {
    calls += "r";
    peak_allocated = live;
    peak_reserved = reserved;
  }
  AllocatorPeaks peaks() override { return {peak_allocated, peak_reserved}; }
  int64_t device_used_bytes() override {
    calls += "u";
    return used;
  }
  // A training step: allocates `bytes` on top of what is live, reserving `segment`, frees it.
  void step(int64_t bytes, int64_t segment) {
    peak_allocated = std::max(peak_allocated, live + bytes);
    reserved = std::max(reserved, live + segment);
    peak_reserved = std::max(peak_reserved, reserved);
    used = std::max(used, in_use_by_others + reserved);
  }
  void build(int64_t bytes) {
    live += bytes;
    reserved = std::max(reserved, live);
    used = std::max(used, in_use_by_others + reserved);
  }

  std::string calls;
  int64_t in_use_by_others = 500;  // CUDA context, other processes
  int64_t live = 0, reserved = 0, used = 500;
  int64_t peak_allocated = 0, peak_reserved = 0;
};

TEST(DeviceMemoryMeter, MeasuresAboveTheLevelBeforeTheBuildWithoutEmptyingBetweenSteps) {
  FakeDevice dev;
  dev.build(7);  // left by an earlier case and still live: part of the level
  DeviceMemoryMeter meter(dev);
  meter.before_build();
  EXPECT_EQ(dev.calls, "eu");
  dev.build(1000);                 // weights
  dev.step(300, 400);              // warm-up
  meter.before_measure();          // peaks restart here
  EXPECT_EQ(dev.calls, "euru");
  dev.step(300, 400);
  meter.after_step();
  dev.step(250, 400);
  meter.after_step();
  EXPECT_EQ(dev.calls, "euruuu") << "the cache must not be emptied between steps";
  const MemoryCounters c = meter.after_measure();
  EXPECT_EQ(c.mem_alloc, 1007 + 300);
  ASSERT_TRUE(c.mem_reserved.has_value());
  EXPECT_EQ(*c.mem_reserved, 1007 + 400);
  EXPECT_EQ(c.mem_used, 1000 + 400);  // above the 507 in use before the build
  meter.after_case();
  EXPECT_EQ(dev.calls.back(), 'e');
}

TEST(DeviceMemoryMeter, UsedMemoryIsTheHighestSampleAndNeverNegative) {
  FakeDevice dev;
  DeviceMemoryMeter meter(dev);
  meter.before_build();
  meter.before_measure();
  dev.used = 2000;  // a library's workspace, seen after the first step
  meter.after_step();
  dev.used = 900;   // and gone by the end
  meter.after_step();
  EXPECT_EQ(meter.after_measure().mem_used, 1500);
  dev.in_use_by_others = 100;  // another process left during the case
  dev.used = 100;
  meter.before_build();
  dev.used = 50;
  meter.before_measure();
  meter.after_step();
  EXPECT_EQ(meter.after_measure().mem_used, 0);
}

TEST(DeviceMemoryMeter, SaysHowItMeasures) {
  EXPECT_NE(DeviceMemoryMeter::mem_used_method().find("cudaMemGetInfo"), std::string::npos);
  EXPECT_NE(DeviceMemoryMeter::allocator_protocol().find("never between steps"), std::string::npos);
}

}  // namespace
}  // namespace p4s::bench
