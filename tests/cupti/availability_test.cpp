// The real CUPTI-backed implementation on the machine the tests run on. Without a GPU or driver
// it must say, in one line, that capture is off and why, and every call must fail cleanly.
// With a GPU it must say what it found (the GPU self-test then checks the records).
#include <gtest/gtest.h>
#include <dlfcn.h>

#include <string>

#include "cupti/activity_api.hpp"
#include "cupti/driver_probe.hpp"
#include "cupti/kernel_capture.hpp"

namespace p4s::cupti {
namespace {

bool driver_library_present() {
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
  if (lib == nullptr) lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (lib == nullptr) return false;
  dlclose(lib);
  return true;
}

TEST(Availability, TheRealImplementationSaysWhyCaptureIsOff) {
  const std::unique_ptr<ActivityApi> api = make_cupti_activity_api();
  const Availability a = api->availability();
  if (a.available) {
    EXPECT_EQ(a.line().rfind("kernel capture on: CUPTI ", 0), 0u) << a.line();
    GTEST_SKIP() << "capture is on here: " << a.line();
  }
  EXPECT_EQ(a.line(), "kernel capture off: " + a.detail);
  EXPECT_EQ(a.line().find('\n'), std::string::npos);
  if (!built_with_cupti()) {
    EXPECT_EQ(a.line(),
              "kernel capture off: built without CUPTI (configured with P4S_WITH_CUPTI=OFF, or no "
              "CUPTI found; see the CMake summary)");
  } else if (!driver_library_present()) {
    // A machine without the CUDA driver, like the build machine.
    EXPECT_EQ(a.line(), "kernel capture off: no CUDA driver (libcuda.so.1 not found)");
  } else if (const DriverProbe driver = probe_cuda_driver(); !driver.usable) {
    EXPECT_EQ(a.detail, driver.reason);  // a driver without a device, say
  }
}

TEST(Availability, EveryCallFailsCleanlyWhenCaptureIsOff) {
  const std::unique_ptr<ActivityApi> api = make_cupti_activity_api();
  if (api->availability().available) GTEST_SKIP() << api->availability().line();
  const Status enabled = api->enable(ActivityKinds::all());
  EXPECT_FALSE(enabled);
  EXPECT_EQ(enabled.message, api->availability().line());
  EXPECT_TRUE(api->flush());
  EXPECT_TRUE(api->activity_buffers().empty());
  Status dropped_status = Status::failure("not set");
  EXPECT_EQ(api->dropped_records(&dropped_status), 0u);
  EXPECT_TRUE(dropped_status);
  EXPECT_TRUE(api->take_errors().empty());
  EXPECT_TRUE(api->disable());
  const uint64_t t0 = api->now_ns();
  EXPECT_GE(api->now_ns(), t0);  // a clock still runs, for step windows
}

TEST(Availability, KernelCaptureOnTheRealImplementationRunsEverythingElse) {
  KernelCapture capture = KernelCapture::with_cupti();
  if (capture.available()) GTEST_SKIP() << capture.availability().line();
  EXPECT_FALSE(capture.start());
  EXPECT_FALSE(capture.running());
  const CaptureResult r = capture.collect();
  EXPECT_EQ(r.records.size(), 0u);
  EXPECT_TRUE(r.complete());
}

TEST(Availability, AMissingDriverLibraryIsNamed) {
  CuptiOptions options;
  options.driver_library = "/nonexistent/libcuda.so.1";
  const Availability a = make_cupti_activity_api(options)->availability();
  EXPECT_FALSE(a.available);
  if (built_with_cupti()) {
    EXPECT_EQ(a.line(), "kernel capture off: no CUDA driver (/nonexistent/libcuda.so.1 not found)");
  }
}

TEST(Availability, OffIsOneLineWithItsReason) {
  EXPECT_EQ(Availability::off("why").line(), "kernel capture off: why");
  EXPECT_EQ(Availability::on("what").line(), "kernel capture on: what");
  EXPECT_TRUE(Availability::on("what").available);
}

}  // namespace
}  // namespace p4s::cupti
