// Every difference between the LibTorch versions the project builds against (1.13 and 2.x)
// lives here, decided on TORCH_VERSION_MAJOR/MINOR, so that the rest of the code has one
// spelling. Add a difference here rather than testing versions elsewhere.
#pragma once

#include <torch/version.h>

#define P4S_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||      \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10::Allocator::allocate is `const` up to LibTorch 2.2 and non-const from 2.3, which also
// made `copy_data` a pure virtual that every allocator defines. An allocator writes
//   c10::DataPtr allocate(size_t n) P4S_TORCH_ALLOCATE_CONST override;
//   void copy_data(void* dest, const void* src, size_t n) const P4S_TORCH_COPY_DATA_OVERRIDE;
// (before 2.3 copy_data is then a plain member function that nothing calls).
#if P4S_TORCH_AT_LEAST(2, 3)
#define P4S_TORCH_ALLOCATE_CONST
#define P4S_TORCH_COPY_DATA_OVERRIDE override
#else
#define P4S_TORCH_ALLOCATE_CONST const
#define P4S_TORCH_COPY_DATA_OVERRIDE
#endif

// Autocast's state per device type: LibTorch 2.4 replaced the per-device functions
// (set_cpu_enabled, set_autocast_cpu_dtype, ...) by ones taking the device type and deprecated
// the old ones.
#include <ATen/autocast_mode.h>

namespace p4s::torch_compat {

inline bool autocast_enabled(c10::DeviceType device) {
#if P4S_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

inline void set_autocast_enabled(c10::DeviceType device, bool enabled) {
#if P4S_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
  } else {
    at::autocast::set_enabled(enabled);
  }
#endif
}

inline at::ScalarType autocast_dtype(c10::DeviceType device) {
#if P4S_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype()
                                        : at::autocast::get_autocast_gpu_dtype();
#endif
}

inline void set_autocast_dtype(c10::DeviceType device, at::ScalarType dtype) {
#if P4S_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

}  // namespace p4s::torch_compat
