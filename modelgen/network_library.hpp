// Finds the NetSpec behind a network name: in NetSpec folders given by the user (by each
// file's `name` field), then among the built-in networks (modelgen/builtin.hpp). Keeps every
// network it resolved with its shapes, so that callers analyse each network once.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "modelgen/netspec.hpp"
#include "modelgen/shapes.hpp"

namespace p4s::modelgen {

struct ResolvedNet {
  modelgen::NetSpec spec;
  modelgen::ShapedNet shapes;
  std::string source;  // the file it came from, or "built-in"
};

class NetworkLibrary {
 public:
  // Indexes every *.json file in `folders` by its NetSpec name. Throws InputError
  // for a file that is not a valid NetSpec, std::runtime_error for a folder that cannot be
  // read or two files giving one name.
  explicit NetworkLibrary(const std::vector<std::string>& folders = {});

  // The network of that name. Throws InputError when neither a folder nor the
  // built-in networks have it (the message names the folders searched).
  const ResolvedNet& get(const std::string& name);

  // Adds a network directly (tests, `p4s predict` on files). Replaces one of the same name.
  const ResolvedNet& add(modelgen::NetSpec spec, const std::string& source);

 private:
  std::vector<std::string> folders_;
  std::map<std::string, std::string> files_;  // name -> path, from the folders
  std::map<std::string, std::unique_ptr<ResolvedNet>> nets_;
};

// The family of a network: its name before the first '_' ("resnet18_50" -> "resnet18").
std::string family_of(const std::string& net_name);

}  // namespace p4s::modelgen
