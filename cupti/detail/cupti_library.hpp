// Private to cupti/cupti_*.cpp: CUPTI opened at run time, its entry points, and the macro that
// checks CUPTI calls. Includes CUPTI; never include it from a public header.
//
// Why dlopen rather than linking libcupti:
//  - every binary starts on machines without libcupti (or without a GPU) and says why capture
//    is off, instead of failing to load;
//  - RTLD_LOCAL and dlsym on our own handle bind our calls to the CUPTI we chose, even when the
//    process also holds another CUPTI (a CUDA LibTorch can bring its own): no interposition;
//  - the library's version is checked against the headers' before any record is decoded;
//  - $P4S_CUPTI_LIBRARY can point at the CUPTI that matches the installed driver.
// libcupti itself does not need libcuda.so.1 to load (it opens the driver lazily); its activity
// calls then fail with CUPTI_ERROR_UNKNOWN, which is why the driver is probed first.
#pragma once

#include <cupti.h>

#include <string>

#include "cupti/activity_api.hpp"

namespace p4s::cupti::detail {

// The record structs follow the headers' CUPTI_API_VERSION (v19 = CUDA 12.0, v24 = 12.6,
// v26 = 12.8, from 130000 on: CUDA 13.0 as xxyyzz). CUPTI writes the newest version it knows;
// newer versions only append fields, so reading an older struct's prefix from a newer library's
// record is safe, and load_cupti_library refuses a library older than these headers.
#if !defined(CUPTI_API_VERSION) || CUPTI_API_VERSION < 19
#error "cupti/ needs CUPTI from CUDA 12.0 or newer (CUPTI_API_VERSION >= 19)"
#endif
#if CUPTI_API_VERSION >= 130000
using KernelActivity = CUpti_ActivityKernel10;
#else
using KernelActivity = CUpti_ActivityKernel9;
#endif
#if CUPTI_API_VERSION >= 26
using MemcpyActivity = CUpti_ActivityMemcpy6;
#else
using MemcpyActivity = CUpti_ActivityMemcpy5;
#endif
using MemsetActivity = CUpti_ActivityMemset4;
#if CUPTI_API_VERSION >= 24
using MemoryActivity = CUpti_ActivityMemory4;
#else
using MemoryActivity = CUpti_ActivityMemory3;
#endif
using ApiActivity = CUpti_ActivityAPI;

// The CUPTI functions the project calls, resolved from one library handle. Members carry the
// functions' own names, so that a call reads like the CUPTI call it is.
struct CuptiLibrary {
  std::string path;          // what dlopen opened
  uint32_t api_version = 0;  // cuptiGetVersion()

  decltype(&::cuptiGetVersion) cuptiGetVersion = nullptr;
  decltype(&::cuptiGetResultString) cuptiGetResultString = nullptr;
  // Optional, and typed by hand so that headers without them still compile.
  CUptiResult(CUPTIAPI* cuptiGetErrorMessage)(CUptiResult, const char**) = nullptr;
  decltype(&::cuptiGetTimestamp) cuptiGetTimestamp = nullptr;
  decltype(&::cuptiGetCallbackName) cuptiGetCallbackName = nullptr;
  decltype(&::cuptiActivityRegisterCallbacks) cuptiActivityRegisterCallbacks = nullptr;
  decltype(&::cuptiActivityEnable) cuptiActivityEnable = nullptr;
  decltype(&::cuptiActivityDisable) cuptiActivityDisable = nullptr;
  decltype(&::cuptiActivityFlushAll) cuptiActivityFlushAll = nullptr;
  decltype(&::cuptiActivityGetNextRecord) cuptiActivityGetNextRecord = nullptr;
  decltype(&::cuptiActivityGetNumDroppedRecords) cuptiActivityGetNumDroppedRecords = nullptr;
  decltype(&::cuptiActivitySetAttribute) cuptiActivitySetAttribute = nullptr;
  // Optional (CUDA 12.5+): per-call selection of runtime/driver API records.
  CUptiResult(CUPTIAPI* cuptiActivityEnableRuntimeApi)(CUpti_CallbackId, uint8_t) = nullptr;
  CUptiResult(CUPTIAPI* cuptiActivityEnableDriverApi)(CUpti_CallbackId, uint8_t) = nullptr;
};

// "cuptiActivityEnable failed: CUPTI_ERROR_NOT_INITIALIZED (<CUPTI's description>)".
std::string describe_failure(const CuptiLibrary& lib, const char* call, CUptiResult result);

// Success, or a failure naming `call` and CUPTI's result string.
inline Status check_cupti(const CuptiLibrary& lib, const char* call, CUptiResult result) {
  if (result == CUPTI_SUCCESS) return Status::success();
  return Status::failure(describe_failure(lib, call, result));
}

}  // namespace p4s::cupti::detail

// Calls CUPTI function `fn` of library `lib` and yields a Status naming the call on failure:
//   if (Status s = P4S_CUPTI_CALL(lib, cuptiActivityFlushAll, CUPTI_ACTIVITY_FLAG_FLUSH_FORCED); !s)
#define P4S_CUPTI_CALL(lib, fn, ...) \
  ::p4s::cupti::detail::check_cupti((lib), #fn, (lib).fn(__VA_ARGS__))
