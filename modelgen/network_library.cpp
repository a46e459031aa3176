#include "modelgen/network_library.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "modelgen/builtin.hpp"
#include "modelgen/netspec_io.hpp"

namespace p4s::modelgen {
namespace {

std::vector<std::string> json_files(const std::string& folder) {
  DIR* d = opendir(folder.c_str());
  if (!d) throw InputError("--netspecs: " + folder + ": cannot read the NetSpec folder: " + std::strerror(errno));
  std::vector<std::string> out;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0) out.push_back(folder + "/" + n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string family_of(const std::string& net_name) { return net_name.substr(0, net_name.find('_')); }

NetworkLibrary::NetworkLibrary(const std::vector<std::string>& folders) : folders_(folders) {
  for (const std::string& folder : folders) {
    for (const std::string& path : json_files(folder)) {
      modelgen::NetSpec spec = modelgen::read_netspec(path);
      auto [it, fresh] = files_.emplace(spec.name, path);
      if (!fresh && it->second != path)
        throw InputError(path + ": network \"" + spec.name + "\" is also defined by " + it->second);
      add(std::move(spec), path);
    }
  }
}

const ResolvedNet& NetworkLibrary::add(modelgen::NetSpec spec, const std::string& source) {
  auto net = std::make_unique<ResolvedNet>();
  net->shapes = modelgen::infer_shapes(spec, source);
  net->spec = std::move(spec);
  net->source = source;
  auto& slot = nets_[net->spec.name];
  slot = std::move(net);
  return *slot;
}

const ResolvedNet& NetworkLibrary::get(const std::string& name) {
  auto it = nets_.find(name);
  if (it != nets_.end()) return *it->second;
  std::optional<modelgen::NetSpec> builtin;
  try {
    builtin = modelgen::builtin_network(name);
  } catch (const std::exception& e) {
    throw InputError("network \"" + name + "\": " + e.what());
  }
  if (!builtin) {
    std::string where = folders_.empty() ? std::string("no --netspecs folder given")
                                         : "not in the NetSpec folders";
    for (const std::string& f : folders_) where += " " + f;
    throw InputError("network \"" + name + "\" is not a built-in network and " + where +
                     " (give its folder with --netspecs)");
  }
  return add(std::move(*builtin), "built-in");
}

}  // namespace p4s::modelgen
