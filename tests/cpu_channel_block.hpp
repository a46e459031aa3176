// The channel width of oneDNN's blocked layouts on this CPU, which the memory simulation's
// CPU backend needs: 16 channels with AVX-512, 8 with AVX2 (and elsewhere).
#pragma once

#include <fstream>
#include <string>

namespace p4s::test {

inline int channel_block() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) return line.find(" avx512f") != std::string::npos ? 16 : 8;
  return 8;
}

}  // namespace p4s::test
