// What state the device was in: the things that change a step's time without changing the
// step (the CPU's frequency governor and clock, a GPU's clocks, temperature and power limit,
// a Jetson board's power mode, the hottest thermal zone). Recorded in the results' context when
// a sweep starts and when it ends (keys p4s_state_start_* and p4s_state_end_*), so that a
// board that throttled, or two results taken in different power modes, show in the results and
// in `p4s compare`. Reading the machine is one function; turning what was read into context
// entries is pure, so that it is testable on fixed inputs.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace p4s::sweep_guard {

struct GpuState {  // as NVML reports it
  std::optional<unsigned> sm_mhz, memory_mhz;  // current clocks
  std::optional<unsigned> temperature_c;
  std::optional<double> power_limit_w;         // the enforced power limit
};

struct DeviceState {
  std::vector<std::string> cpu_governors;  // the distinct cpufreq governors of the CPUs
  std::optional<double> cpu_mhz;           // the CPUs' mean current clock
  std::optional<double> hottest_c;         // the hottest thermal zone
  std::optional<std::string> jetson_power_mode;  // "2 (MAXN)"
  std::optional<GpuState> gpu;
};

// The context entries of a state, each key "p4s_state_<when>_<what>" (when: "start", "end"),
// all values text; what was not read gives no key.
std::vector<std::pair<std::string, std::string>> device_state_entries(const DeviceState& s, const std::string& when);

// The mean of the "cpu MHz" lines of /proc/cpuinfo text (x86); nullopt without any.
std::optional<double> cpuinfo_mean_mhz(const std::string& cpuinfo_text);

// A Jetson board's power mode: the mode id from /var/lib/nvpmodel/status text ("pmode:0002
// fmode:..."), with its name from /etc/nvpmodel.conf text ("< POWER_MODEL ID=2 NAME=MAXN >")
// where the configuration names it: "2 (MAXN)"; nullopt when the status says none.
std::optional<std::string> jetson_power_mode(const std::string& status_text, const std::string& conf_text);

// Reads the machine now: cpufreq and /proc/cpuinfo, the thermal zones, nvpmodel's status on
// Jetson boards, and, for `gpu_pci_bus_id` (a CUDA PCI bus id, e.g. "0000:3B:00.0"), the GPU
// through NVML where its library loads. Never throws: what cannot be read is left out.
class DeviceStateReader {
 public:
  explicit DeviceStateReader(std::optional<std::string> gpu_pci_bus_id = std::nullopt);
  ~DeviceStateReader();
  DeviceStateReader(const DeviceStateReader&) = delete;
  DeviceStateReader& operator=(const DeviceStateReader&) = delete;

  DeviceState read() const;

 private:
  struct Nvml;
  std::optional<std::string> gpu_pci_bus_id_;
  Nvml* nvml_ = nullptr;  // loaded and initialised when a GPU is asked for and NVML loads
};

}  // namespace p4s::sweep_guard
