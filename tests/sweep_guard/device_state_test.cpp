#include "sweep_guard/device_state.hpp"

#include <gtest/gtest.h>

namespace p4s::sweep_guard {
namespace {

TEST(DeviceState, EntriesSayWhatWasRead) {
  DeviceState s;
  EXPECT_TRUE(device_state_entries(s, "start").empty());
  s.cpu_governors = {"performance", "powersave"};
  s.cpu_mhz = 2445.4;
  s.hottest_c = 51.25;
  s.jetson_power_mode = "0 (MAXN)";
  s.gpu = GpuState{1980u, 2619u, 41u, 700.0};
  const std::vector<std::pair<std::string, std::string>> want = {
      {"p4s_state_end_cpu_governor", "performance,powersave"},
      {"p4s_state_end_cpu_mhz", "2445"},
      {"p4s_state_end_hottest_c", "51.2"},
      {"p4s_state_end_jetson_power_mode", "0 (MAXN)"},
      {"p4s_state_end_gpu_sm_mhz", "1980"},
      {"p4s_state_end_gpu_memory_mhz", "2619"},
      {"p4s_state_end_gpu_temperature_c", "41"},
      {"p4s_state_end_gpu_power_limit_w", "700.0"}};
  EXPECT_EQ(device_state_entries(s, "end"), want);
  s.gpu = GpuState{};
  EXPECT_EQ(device_state_entries(s, "end").size(), 4u);  // what NVML did not say is left out
}

TEST(DeviceState, CpuinfoMeanClock) {
  EXPECT_EQ(cpuinfo_mean_mhz("processor\t: 0\ncpu MHz\t\t: 2000.000\nprocessor\t: 1\ncpu MHz\t\t: 3000.500\n"),
            2500.25);
  EXPECT_EQ(cpuinfo_mean_mhz("processor\t: 0\nBogoMIPS\t: 50.00\n"), std::nullopt);  // ARM
  EXPECT_EQ(cpuinfo_mean_mhz("cpu MHz\t: fast\n"), std::nullopt);
}

TEST(DeviceState, JetsonPowerModeWithItsName) {
  const std::string conf =
      "< POWER_MODEL ID=0 NAME=MAXN >\nCPU_ONLINE CORE_0 1\n< POWER_MODEL ID=2 NAME=MAXP_CORE_ARM >\n";
  EXPECT_EQ(jetson_power_mode("pmode:0002 fmode:quiet\n", conf), "2 (MAXP_CORE_ARM)");
  EXPECT_EQ(jetson_power_mode("pmode:0000\n", conf), "0 (MAXN)");
  EXPECT_EQ(jetson_power_mode("pmode:0003\n", conf), "3");  // not in the configuration
  EXPECT_EQ(jetson_power_mode("pmode:0001\n", ""), "1");
  EXPECT_EQ(jetson_power_mode("", conf), std::nullopt);
  EXPECT_EQ(jetson_power_mode("pmode:\n", conf), std::nullopt);
}

TEST(DeviceState, ReadingThisMachineNeverThrows) {
  const DeviceStateReader reader(std::string("0000:00:00.0"));  // no NVML here, or no such GPU
  const DeviceState s = reader.read();
  EXPECT_FALSE(s.gpu && s.gpu->sm_mhz && *s.gpu->sm_mhz == 0);
  for (const auto& [key, value] : device_state_entries(s, "start")) EXPECT_FALSE(value.empty()) << key;
}

}  // namespace
}  // namespace p4s::sweep_guard
