#include "sweep_guard/device_state.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/number_text.hpp"

namespace p4s::sweep_guard {
namespace {

std::string trimmed(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  const size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::optional<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string fixed(double v, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << v;
  return out.str();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> device_state_entries(const DeviceState& s, const std::string& when) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string prefix = "p4s_state_" + when + "_";
  if (!s.cpu_governors.empty()) {
    std::string g;
    for (const std::string& name : s.cpu_governors) g += (g.empty() ? "" : ",") + name;
    out.emplace_back(prefix + "cpu_governor", g);
  }
  if (s.cpu_mhz) out.emplace_back(prefix + "cpu_mhz", fixed(*s.cpu_mhz, 0));
  if (s.hottest_c) out.emplace_back(prefix + "hottest_c", fixed(*s.hottest_c, 1));
  if (s.jetson_power_mode) out.emplace_back(prefix + "jetson_power_mode", *s.jetson_power_mode);
  if (s.gpu) {
    if (s.gpu->sm_mhz) out.emplace_back(prefix + "gpu_sm_mhz", std::to_string(*s.gpu->sm_mhz));
    if (s.gpu->memory_mhz) out.emplace_back(prefix + "gpu_memory_mhz", std::to_string(*s.gpu->memory_mhz));
    if (s.gpu->temperature_c) out.emplace_back(prefix + "gpu_temperature_c", std::to_string(*s.gpu->temperature_c));
    if (s.gpu->power_limit_w) out.emplace_back(prefix + "gpu_power_limit_w", fixed(*s.gpu->power_limit_w, 1));
  }
  return out;
}

std::optional<double> cpuinfo_mean_mhz(const std::string& cpuinfo_text) {
  std::istringstream in(cpuinfo_text);
  std::string line;
  double sum = 0;
  int n = 0;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || trimmed(line.substr(0, colon)) != "cpu MHz") continue;
    if (const auto v = parse_finite_number(trimmed(line.substr(colon + 1))); v && *v > 0) {
      sum += *v;
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

std::optional<std::string> jetson_power_mode(const std::string& status_text, const std::string& conf_text) {
  const size_t at = status_text.find("pmode:");
  if (at == std::string::npos) return std::nullopt;
  size_t end = at + 6;
  while (end < status_text.size() && std::isdigit(static_cast<unsigned char>(status_text[end]))) ++end;
  const std::optional<long> id = parse_integer<long>(std::string_view(status_text).substr(at + 6, end - at - 6));
  if (!id) return std::nullopt;
  std::string mode = std::to_string(*id);
  // "< POWER_MODEL ID=2 NAME=MAXN >"
  std::istringstream conf(conf_text);
  std::string line;
  while (std::getline(conf, line)) {
    if (line.find("POWER_MODEL") == std::string::npos) continue;
    const size_t id_at = line.find("ID=");
    const size_t name_at = line.find("NAME=");
    if (id_at == std::string::npos || name_at == std::string::npos) continue;
    const std::string id_text = line.substr(id_at + 3, line.find_first_of(" >", id_at + 3) - id_at - 3);
    if (parse_integer<long>(id_text) != id) continue;
    const std::string name = line.substr(name_at + 5, line.find_first_of(" >", name_at + 5) - name_at - 5);
    if (!name.empty()) mode += " (" + name + ")";
    break;
  }
  return mode;
}

// NVML, loaded at run time so that nothing links it: the calls the state needs.
struct DeviceStateReader::Nvml {
  using Status = int;  // nvmlReturn_t; 0 is success
  using Device = void*;
  void* library = nullptr;
  Status (*shutdown)() = nullptr;
  Status (*by_pci_bus_id)(const char*, Device*) = nullptr;
  Status (*clock)(Device, int, unsigned*) = nullptr;         // nvmlDeviceGetClockInfo
  Status (*temperature)(Device, int, unsigned*) = nullptr;   // nvmlDeviceGetTemperature
  Status (*power_limit)(Device, unsigned*) = nullptr;        // nvmlDeviceGetEnforcedPowerLimit, mW

  static Nvml* load() {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return nullptr;
    auto* n = new Nvml;
    n->library = lib;
    auto init = reinterpret_cast<Status (*)()>(dlsym(lib, "nvmlInit_v2"));
    n->shutdown = reinterpret_cast<Status (*)()>(dlsym(lib, "nvmlShutdown"));
    n->by_pci_bus_id = reinterpret_cast<Status (*)(const char*, Device*)>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    n->clock = reinterpret_cast<Status (*)(Device, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetClockInfo"));
    n->temperature = reinterpret_cast<Status (*)(Device, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetTemperature"));
    n->power_limit = reinterpret_cast<Status (*)(Device, unsigned*)>(dlsym(lib, "nvmlDeviceGetEnforcedPowerLimit"));
    if (init == nullptr || n->shutdown == nullptr || n->by_pci_bus_id == nullptr || init() != 0) {
      n->shutdown = nullptr;
      delete n;
      dlclose(lib);
      return nullptr;
    }
    return n;
  }
  ~Nvml() {
    if (shutdown != nullptr) shutdown();
    if (library != nullptr) dlclose(library);
  }

  std::optional<GpuState> read(const std::string& pci_bus_id) const {
    Device device = nullptr;
    if (by_pci_bus_id(pci_bus_id.c_str(), &device) != 0) return std::nullopt;
    GpuState g;
    unsigned v = 0;
    constexpr int kClockSm = 1, kClockMemory = 2, kTemperatureGpu = 0;
    if (clock != nullptr && clock(device, kClockSm, &v) == 0) g.sm_mhz = v;
    if (clock != nullptr && clock(device, kClockMemory, &v) == 0) g.memory_mhz = v;
    if (temperature != nullptr && temperature(device, kTemperatureGpu, &v) == 0) g.temperature_c = v;
    if (power_limit != nullptr && power_limit(device, &v) == 0) g.power_limit_w = v / 1000.0;
    return g;
  }
};

DeviceStateReader::DeviceStateReader(std::optional<std::string> gpu_pci_bus_id)
    : gpu_pci_bus_id_(std::move(gpu_pci_bus_id)) {
  if (gpu_pci_bus_id_) nvml_ = Nvml::load();
}

DeviceStateReader::~DeviceStateReader() { delete nvml_; }

DeviceState DeviceStateReader::read() const {
  namespace fs = std::filesystem;
  DeviceState s;
  std::error_code ec;
  double khz_sum = 0;
  int khz_n = 0;
  const fs::path cpus = "/sys/devices/system/cpu";
  for (fs::directory_iterator it(cpus, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("cpu", 0) != 0 || name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[3]))) continue;
    if (const auto g = read_text(it->path() / "cpufreq" / "scaling_governor")) {
      const std::string gov = trimmed(*g);
      if (!gov.empty() && std::find(s.cpu_governors.begin(), s.cpu_governors.end(), gov) == s.cpu_governors.end())
        s.cpu_governors.push_back(gov);
    }
    if (const auto f = read_text(it->path() / "cpufreq" / "scaling_cur_freq"))
      if (const auto khz = parse_finite_number(trimmed(*f)); khz && *khz > 0) {
        khz_sum += *khz;
        ++khz_n;
      }
  }
  std::sort(s.cpu_governors.begin(), s.cpu_governors.end());
  if (khz_n > 0) s.cpu_mhz = khz_sum / khz_n / 1000.0;
  else if (const auto info = read_text("/proc/cpuinfo")) s.cpu_mhz = cpuinfo_mean_mhz(*info);

  for (fs::directory_iterator it("/sys/class/thermal", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind("thermal_zone", 0) != 0) continue;
    if (const auto t = read_text(it->path() / "temp"))
      if (const auto milli = parse_finite_number(trimmed(*t)); milli && *milli > 0 && *milli < 200000)
        s.hottest_c = std::max(s.hottest_c.value_or(0.0), *milli / 1000.0);
  }
  if (const auto status = read_text("/var/lib/nvpmodel/status"))
    s.jetson_power_mode = jetson_power_mode(*status, read_text("/etc/nvpmodel.conf").value_or(""));
  if (nvml_ != nullptr && gpu_pci_bus_id_) s.gpu = nvml_->read(*gpu_pci_bus_id_);
  return s;
}

}  // namespace p4s::sweep_guard
