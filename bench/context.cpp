#include "bench/context.hpp"
#include "results_format/format.hpp"

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace p4s::bench {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::optional<std::string> read_text(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string cpu_model(const std::string& cpuinfo_text) {
  for (const char* key : {"model name", "Hardware", "Processor"}) {
    std::istringstream lines(cpuinfo_text);
    std::string line;
    while (std::getline(lines, line)) {
      const size_t colon = line.find(':');
      if (colon == std::string::npos || trim(line.substr(0, colon)) != key) continue;
      const std::string value = trim(line.substr(colon + 1));
      if (!value.empty()) return value;
    }
  }
  return "unknown";
}

std::string cpu_isa(const std::string& cpuinfo_text) {
  std::istringstream lines(cpuinfo_text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || trim(line.substr(0, colon)) != "flags") continue;
    const std::string flags = " " + line.substr(colon + 1) + " ";
    if (flags.find(" avx512f ") != std::string::npos) return "avx512";
    if (flags.find(" avx2 ") != std::string::npos) return "avx2";
    return "other";
  }
  return "other";
}

std::optional<std::string> l4t_release(const std::string& tegra_release_text) {
  const std::string first = trim(tegra_release_text.substr(0, tegra_release_text.find('\n')));
  if (first.empty()) return std::nullopt;
  std::smatch m;
  static const std::regex kForm(R"(R(\d+) \(release\), REVISION: ([0-9.]+))");
  if (std::regex_search(first, m, kForm)) return "R" + m[1].str() + "." + m[2].str();
  return first.front() == '#' ? trim(first.substr(1)) : first;
}

std::optional<std::string> jetpack_release(const std::string& dpkg_status_text) {
  // Paragraphs separated by blank lines; the package's own paragraph has its Status and Version.
  std::istringstream lines(dpkg_status_text);
  std::string line, package, status, version;
  auto finish = [&]() -> std::optional<std::string> {
    // "install ok installed": the last of the three words is the package's state.
    const bool installed = status.substr(status.rfind(' ') + 1) == "installed";
    if (package == "nvidia-jetpack" && installed && !version.empty()) return version;
    package.clear();
    status.clear();
    version.clear();
    return std::nullopt;
  };
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (auto v = finish()) return v;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos || line[0] == ' ') continue;
    const std::string key = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (key == "Package") package = value;
    if (key == "Status") status = value;
    if (key == "Version") version = value;
  }
  return finish();
}

std::string nvidia_driver_version(const std::string& proc_version_text) {
  std::smatch m;
  static const std::regex kModule(R"(Kernel Module(?: for [^ ]+)?\s+([0-9]+(?:\.[0-9]+)+))");
  if (std::regex_search(proc_version_text, m, kModule)) return m[1].str();
  return {};
}

std::string cudnn_version_string(int64_t v) {
  if (v <= 0) return "none";
  const bool nine = v >= 90000;
  const int64_t major = nine ? v / 10000 : v / 1000;
  const int64_t minor = nine ? v % 10000 / 100 : v % 1000 / 100;
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100);
}

std::vector<std::pair<std::string, std::string>> make_context(const ContextInputs& in) {
  std::vector<std::pair<std::string, std::string>> c = {
      {results::kSchemaVersionKey, std::to_string(results::kSchemaVersion)},
      {"p4s_device", in.device},
      {"p4s_cpu_model", cpu_model(in.cpuinfo_text)},
      {"p4s_cpu_isa", cpu_isa(in.cpuinfo_text)},
      {"p4s_threads", std::to_string(in.threads)},
      {"p4s_libtorch", in.libtorch_version},
      {"p4s_sweep", in.sweep},
  };
  if (in.mem_limit_bytes) c.emplace_back("p4s_mem_limit", std::to_string(*in.mem_limit_bytes));
  if (in.mem_limit_bytes && in.mem_limit_method) c.emplace_back("p4s_mem_limit_method", *in.mem_limit_method);
  c.emplace_back("p4s_mem_used_method", in.mem_used_method);
  if (in.allocator_protocol) c.emplace_back("p4s_allocator_protocol", *in.allocator_protocol);
  c.emplace_back("p4s_kernel_capture", in.kernel_capture);
  if (in.cpu_malloc) c.emplace_back("p4s_cpu_malloc", *in.cpu_malloc);
  if (in.recipe)
    for (const auto& [key, value] : results::recipe_context(*in.recipe)) c.emplace_back(key, value);
  if (in.gpu) {
    c.emplace_back("p4s_gpu_name", in.gpu->name);
    c.emplace_back("p4s_gpu_index", std::to_string(in.gpu->index));
    c.emplace_back("p4s_gpu_compute_capability", in.gpu->compute_capability);
    c.emplace_back("p4s_gpu_memory", std::to_string(in.gpu->memory_bytes));
    c.emplace_back("p4s_gpu_driver", in.gpu->driver);
    c.emplace_back("p4s_cuda_driver", in.gpu->cuda_driver);
    c.emplace_back("p4s_cuda", in.gpu->cuda);
    c.emplace_back("p4s_cudnn", in.gpu->cudnn);
    c.emplace_back("p4s_cuda_allocator", in.gpu->allocator);
  }
  if (in.tegra_release_text)
    if (const std::optional<std::string> l4t = l4t_release(*in.tegra_release_text))
      c.emplace_back("p4s_l4t_release", *l4t);
  if (in.dpkg_status_text)
    if (const std::optional<std::string> jetpack = jetpack_release(*in.dpkg_status_text))
      c.emplace_back("p4s_jetpack", *jetpack);
  return c;
}

ContextInputs read_machine_context() {
  ContextInputs in;
  in.cpuinfo_text = read_text("/proc/cpuinfo").value_or("");
  in.tegra_release_text = read_text("/etc/nv_tegra_release");
  // JetPack is a package on the board's own Ubuntu; look only where the board says it is one.
  if (in.tegra_release_text) in.dpkg_status_text = read_text("/var/lib/dpkg/status");
  in.threads = at::get_num_threads();
  in.libtorch_version = TORCH_VERSION;
  return in;
}

}  // namespace p4s::bench
