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
