#include "cupti/driver_probe.hpp"

#include <dlfcn.h>

#include <string_view>

namespace p4s::cupti {
namespace {

// The driver's entry points, declared without cuda.h (which this file must not need): CUresult
// is an int-sized enum and the calling convention is the C one.
using CuInit = int (*)(unsigned int);
using CuIntOut = int (*)(int*);
using CuErrorText = int (*)(int, const char**);

// Names for results a probe can meet, for when cuGetErrorName cannot say (the stub library).
std::string_view known_result_name(int result) {
  switch (result) {
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY";
    case 46: return "CUDA_ERROR_DEVICE_UNAVAILABLE";
    case 100: return "CUDA_ERROR_NO_DEVICE";
    case 101: return "CUDA_ERROR_INVALID_DEVICE";
    case 304: return "CUDA_ERROR_OPERATING_SYSTEM";
    case 802: return "CUDA_ERROR_SYSTEM_NOT_READY";
    case 803: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
    case 804: return "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE";
    case 999: return "CUDA_ERROR_UNKNOWN";
    default: return {};
  }
}

std::string result_text(void* lib, int result) {
  std::string name;
  if (auto get_name = reinterpret_cast<CuErrorText>(dlsym(lib, "cuGetErrorName"))) {
    const char* s = nullptr;
    if (get_name(result, &s) == 0 && s != nullptr) name = s;
  }
  if (name.empty()) name = known_result_name(result);
  if (name.empty()) name = "CUresult " + std::to_string(result);
  if (auto get_string = reinterpret_cast<CuErrorText>(dlsym(lib, "cuGetErrorString"))) {
    const char* s = nullptr;
    if (get_string(result, &s) == 0 && s != nullptr) name += std::string(": ") + s;
  }
  return name;
}

}  // namespace

std::string cuda_version_string(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

DriverProbe probe_cuda_driver(const std::string& library) {
  DriverProbe p;
  p.library = library;
  dlerror();
  void* lib = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = dlerror();
    const std::string why = err != nullptr ? err : "unknown error";
    if (why.find("No such file") != std::string::npos) {
      p.reason = "no CUDA driver (" + library + " not found)";
    } else {
      p.reason = "no CUDA driver (cannot load " + library + ": " + why + ")";
    }
    return p;
  }
  auto fail = [&](std::string reason) {
    p.reason = std::move(reason);
    dlclose(lib);
    return p;
  };
  auto init = reinterpret_cast<CuInit>(dlsym(lib, "cuInit"));
  auto get_version = reinterpret_cast<CuIntOut>(dlsym(lib, "cuDriverGetVersion"));
  auto get_count = reinterpret_cast<CuIntOut>(dlsym(lib, "cuDeviceGetCount"));
  if (init == nullptr || get_version == nullptr || get_count == nullptr) {
    return fail(library + " is not a CUDA driver (cuInit, cuDriverGetVersion or cuDeviceGetCount missing)");
  }
  if (const int r = init(0); r != 0) {
    if (r == 34) {
      return fail("no CUDA driver (" + library +
                  " is the CUDA toolkit's stub library, not a driver; cuInit: " +
                  result_text(lib, r) + ")");
    }
    if (r == 100) return fail("no CUDA device (cuInit: " + result_text(lib, r) + ")");
    return fail("the CUDA driver did not initialize (cuInit: " + result_text(lib, r) + ")");
  }
  if (const int r = get_version(&p.driver_version); r != 0) {
    return fail("cuDriverGetVersion failed: " + result_text(lib, r));
  }
  if (const int r = get_count(&p.device_count); r != 0) {
    return fail("cuDeviceGetCount failed: " + result_text(lib, r));
  }
  if (p.device_count <= 0) return fail("no CUDA device (the driver reports none)");
  p.usable = true;  // keep the driver loaded: CUPTI and the program will use it
  return p;
}

}  // namespace p4s::cupti
