// The driver probe against the CUDA toolkit's stub libcuda (a library that loads but is no
// driver). Its own executable: the stub must not stay loaded in a process that later looks for
// the real libcuda.so.1.
#include <gtest/gtest.h>
#include <dlfcn.h>

#include <string>

#include "cupti/driver_probe.hpp"

namespace p4s::cupti {
namespace {

TEST(DriverProbe, AMissingLibraryIsNoDriver) {
  const DriverProbe p = probe_cuda_driver("/nonexistent/libcuda.so.1");
  EXPECT_FALSE(p.usable);
  EXPECT_EQ(p.reason, "no CUDA driver (/nonexistent/libcuda.so.1 not found)");
}

TEST(DriverProbe, ALibraryThatIsNotADriverIsNamed) {
  const DriverProbe p = probe_cuda_driver("libm.so.6");
  EXPECT_FALSE(p.usable);
  EXPECT_EQ(p.reason,
            "libm.so.6 is not a CUDA driver (cuInit, cuDriverGetVersion or cuDeviceGetCount missing)");
}

TEST(DriverProbe, TheToolkitsStubIsNotADriver) {
#ifndef P4S_CUDA_STUB_DRIVER
  GTEST_SKIP() << "no CUDA toolkit stub library found at configure time";
#else
  const DriverProbe p = probe_cuda_driver(P4S_CUDA_STUB_DRIVER);
  EXPECT_FALSE(p.usable);
  EXPECT_EQ(p.reason, std::string("no CUDA driver (") + P4S_CUDA_STUB_DRIVER +
                          " is the CUDA toolkit's stub library, not a driver; cuInit: "
                          "CUDA_ERROR_STUB_LIBRARY)")
      << p.reason;
  // Closed again: the stub's soname must not answer for a real driver later.
  EXPECT_EQ(dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD), nullptr);
#endif
}

TEST(DriverProbe, VersionsReadAsCuda) {
  EXPECT_EQ(cuda_version_string(13000), "13.0");
  EXPECT_EQ(cuda_version_string(12040), "12.4");
  EXPECT_EQ(cuda_version_string(11080), "11.8");
}

}  // namespace
}  // namespace p4s::cupti
