// Writing files so that readers never see half of one: write a temporary file beside the
// target, flush it, then rename it over the target.
#pragma once

#include <string>

namespace p4s {

// Replaces `path` with `contents` atomically. Throws std::runtime_error naming the path and
// the system's reason when it cannot; the target is then left as it was.
void write_file_atomically(const std::string& path, const std::string& contents);

// The whole file as a string. Throws std::runtime_error naming the path and the reason.
std::string read_file(const std::string& path);

}  // namespace p4s
