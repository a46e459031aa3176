// Private: loading CUPTI and decoding its activity buffers into the project's records. No CUPTI
// types here, so the tests can drive the real decoder with genuine CUPTI records built by
// cupti_synthetic.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cupti/activity_api.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti::detail {

struct CuptiLibrary;  // cupti_library.hpp

// Opens CUPTI (once per path; never closed: CUPTI keeps threads and exit handlers) and checks
// its version against the headers this build was compiled with. `requested` empty: the default
// search (CuptiOptions::cupti_library). Returns nullptr and sets *reason on failure.
const CuptiLibrary* load_cupti_library(const std::string& requested, std::string* reason);

// "CUPTI 13.0 (API 130001) from /usr/local/cuda/lib64/libcupti.so.13".
std::string describe_library(const CuptiLibrary& lib);
uint32_t library_api_version(const CuptiLibrary& lib);  // cuptiGetVersion()
const std::string& library_path(const CuptiLibrary& lib);
// CUPTI_API_VERSION of the headers this build was compiled with.
uint32_t compiled_api_version();
// The message P4S_CUPTI_CALL gives when `call` returns CUptiResult `result`:
// "cuptiActivityEnable failed: CUPTI_ERROR_NOT_INITIALIZED (<CUPTI's description>)".
std::string describe_cupti_result(const CuptiLibrary& lib, const char* call, int result);

// Demangled kernel names, by mangled name: CUPTI shares one name string among the records of a
// kernel, and demangling each record again would be wasted work.
class NameCache {
 public:
  const std::string& demangled(const char* name);

 private:
  std::unordered_map<std::string, std::string> names_;
};

// Decodes every record of one buffer (CUPTI's iterator, cuptiActivityGetNextRecord) and appends
// it to `out`. A record CUPTI could not complete ends the buffer with a failure saying so.
Status decode_activity_buffer(const CuptiLibrary& lib, const uint8_t* data, size_t valid_bytes,
                              ActivityRecords& out, NameCache& names);

// A runtime or driver call CUPTI can trace, which launches device work.
struct LaunchCallback {
  ApiDomain domain = ApiDomain::kRuntime;
  uint32_t callback_id = 0;
  std::string name;  // CUPTI's name: "cudaLaunchKernel_v7000", "cuLaunchKernel", ...
};
// Every such call this CUPTI knows (names from cuptiGetCallbackName; see launch_calls.hpp).
std::vector<LaunchCallback> list_launch_callbacks(const CuptiLibrary& lib);

}  // namespace p4s::cupti::detail
