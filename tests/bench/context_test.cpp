// The results' context: keys and values from fixed inputs, absent inputs giving absent keys,
// and the parsing of /proc/cpuinfo and /etc/nv_tegra_release.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "bench/context.hpp"

namespace p4s::bench {
namespace {

std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : kv) EXPECT_TRUE(m.emplace(k, v).second) << "duplicate key " << k;
  return m;
}

ContextInputs cpu_inputs() {
  ContextInputs in;
  in.cpuinfo_text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n";
  in.threads = 2;
  in.libtorch_version = "1.13.0";
  in.sweep = "quick";
  in.mem_used_method = "VmHWM";
  return in;
}

TEST(Context, CpuRunHasTheCpuKeysOnly) {
  const auto m = as_map(make_context(cpu_inputs()));
  EXPECT_EQ(m.at("p4s_schema_version"), "1");
  EXPECT_EQ(m.at("p4s_device"), "cpu");
  EXPECT_EQ(m.at("p4s_cpu_model"), "AMD EPYC 7B13");
  EXPECT_EQ(m.at("p4s_threads"), "2");
  EXPECT_EQ(m.at("p4s_libtorch"), "1.13.0");
  EXPECT_EQ(m.at("p4s_sweep"), "quick");
  EXPECT_EQ(m.at("p4s_mem_used_method"), "VmHWM");
  for (const char* absent : {"p4s_mem_limit", "p4s_gpu_name", "p4s_gpu_driver", "p4s_cuda", "p4s_cudnn",
                             "p4s_l4t_release"})
    EXPECT_EQ(m.count(absent), 0u) << absent;
  for (const auto& [k, v] : m) EXPECT_EQ(k.rfind("p4s_", 0), 0u) << k;
}

TEST(Context, OptionalKeysAppearWhenTheirInputsDo) {
  ContextInputs in = cpu_inputs();
  in.mem_limit_bytes = int64_t{4} << 30;
  in.gpu = GpuInfo{"Orin", "540.2", "12.2", "8.9"};
  in.tegra_release_text = "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64\n";
  const auto m = as_map(make_context(in));
  EXPECT_EQ(m.at("p4s_mem_limit"), "4294967296");
  EXPECT_EQ(m.at("p4s_gpu_name"), "Orin");
  EXPECT_EQ(m.at("p4s_gpu_driver"), "540.2");
  EXPECT_EQ(m.at("p4s_cuda"), "12.2");
  EXPECT_EQ(m.at("p4s_cudnn"), "8.9");
  EXPECT_EQ(m.at("p4s_l4t_release"), "R35.4.1");
}

TEST(Context, CpuModelFallsBackForArmBoards) {
  EXPECT_EQ(cpu_model("processor\t: 0\nHardware\t: NVIDIA Jetson TX2\n"), "NVIDIA Jetson TX2");
  EXPECT_EQ(cpu_model("Processor\t: ARMv8 Processor rev 3 (v8l)\n"), "ARMv8 Processor rev 3 (v8l)");
  EXPECT_EQ(cpu_model("processor\t: 0\n"), "unknown");
  EXPECT_EQ(cpu_model(""), "unknown");
}

TEST(Context, L4tReleaseOfOtherFormsIsTheFirstLine) {
  EXPECT_EQ(l4t_release("# R32 (release), REVISION: 6.1, GCID: 27863751\n"), "R32.6.1");
  EXPECT_EQ(l4t_release("# something else\nsecond\n"), "something else");
  EXPECT_FALSE(l4t_release(""));
  EXPECT_FALSE(l4t_release("\n"));
}

TEST(Context, MachineInputsAreReadHere) {
  const ContextInputs in = read_machine_context();
  EXPECT_GE(in.threads, 1);
  EXPECT_FALSE(in.libtorch_version.empty());
  EXPECT_NE(cpu_model(in.cpuinfo_text), "unknown");
  EXPECT_FALSE(in.gpu);
}

}  // namespace
}  // namespace p4s::bench
