// Is there a usable CUDA driver? Answered without linking it: the driver library is opened at run
// time, so every binary of the project starts on machines without one.
#pragma once

#include <string>

namespace p4s::cupti {

struct DriverProbe {
  bool usable = false;
  // When not usable, why, e.g. "no CUDA driver (libcuda.so.1 not found)".
  std::string reason;
  std::string library;     // what was opened
  int driver_version = 0;  // CUDA version the driver supports, e.g. 13000 for 13.0
  int device_count = 0;
};

// Opens `library` (dlopen), runs cuInit(0) and counts devices. A usable driver stays loaded; an
// unusable one is closed again.
DriverProbe probe_cuda_driver(const std::string& library = "libcuda.so.1");

// 13000 -> "13.0", 12040 -> "12.4".
std::string cuda_version_string(int version);

}  // namespace p4s::cupti
