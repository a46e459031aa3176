// Reading and writing NetSpec v1 JSON files. Readers validate (shapes.hpp) before returning;
// writers emit every attribute, so files are explicit about what they mean.
#pragma once

#include <string>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {

// Parses and validates NetSpec JSON text. `source` names it in errors (a file path).
// Throws InputError.
NetSpec parse_netspec(const std::string& json_text, const std::string& source);

// Reads and validates a NetSpec file. Throws InputError (unreadable files included).
NetSpec read_netspec(const std::string& path);

// The spec as pretty-printed NetSpec v1 JSON.
std::string netspec_to_json(const NetSpec& spec);

// Writes the spec to `path` atomically (temporary file, then rename).
// Throws std::runtime_error naming the path when it cannot.
void write_netspec(const NetSpec& spec, const std::string& path);

}  // namespace p4s::modelgen
