// Test support (library p4s_cupti_synthetic, built with CUPTI only): genuine CUPTI activity
// records, laid out exactly as the CUPTI this build was compiled against writes them, made from
// the project's records. They let the tests run the real decoder (CUPTI's own iterator
// included) and the buffer hand-over without a GPU. No CUPTI types here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "cupti/activity_buffer.hpp"
#include "cupti/records.hpp"

namespace p4s::cupti::detail {

class SyntheticCuptiBuffer {
 public:
  // `raw_name` is the kernel's name as CUPTI gives it (often mangled); kept alive here.
  SyntheticCuptiBuffer& add_kernel(const KernelRecord& r, const std::string& raw_name);
  SyntheticCuptiBuffer& add_memcpy(const MemcpyRecord& r);
  SyntheticCuptiBuffer& add_memset(const MemsetRecord& r);
  SyntheticCuptiBuffer& add_memory(const MemoryRecord& r);
  SyntheticCuptiBuffer& add_api_call(const ApiRecord& r);
  // A record of a kind the project ignores (an external-correlation record).
  SyntheticCuptiBuffer& add_other();

  size_t size_bytes() const { return bytes_.size(); }
  // Copies the records into `buffer` as CUPTI fills a buffer it was lent. Returns the valid
  // bytes, or 0 when they do not fit in `capacity`.
  size_t write_to(uint8_t* buffer, size_t capacity) const;
  // A completed buffer holding the records.
  ActivityBuffer to_buffer() const;

 private:
  void append(const void* record, size_t size);
  std::vector<uint8_t> bytes_;
  std::deque<std::string> names_;  // stable addresses for the kernel records' name pointers
};

}  // namespace p4s::cupti::detail
