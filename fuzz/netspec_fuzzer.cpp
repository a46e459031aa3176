// NetSpec v1 files: the reader with its validation and shape inference, then what consumes a
// NetSpec that the reader accepted (netspec_checks.hpp). The reader may throw InputError only;
// once it accepts a file, its consumers must work on it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/netspec_checks.hpp"
#include "modelgen/netspec_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace p4s;
  const std::string text = fuzz::as_text(data, size);
  const auto spec = fuzz::only_throws<InputError>(
      "parse_netspec", "fuzz: ", [&] { return modelgen::parse_netspec(text, "fuzz"); });
  if (spec) fuzz::check_accepted_netspec(*spec);
  return 0;
}
