#include "sweep_guard/case_progress.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace p4s::sweep_guard {

void write_case_progress(const std::string& path, const std::string& case_name) {
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << case_name << "\n";
    if (!out.flush()) throw std::runtime_error(path + ": cannot write the case in progress");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error(path + ": cannot write the case in progress");
  }
}

std::optional<std::string> read_case_progress(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  if (line.empty()) return std::nullopt;
  return line;
}

void fault_if_asked(const std::string& case_name) {
  static const std::string fault = [] {
    const char* v = std::getenv("P4S_BENCH_FAULT");
    return std::string(v == nullptr ? "" : v);
  }();
  if (fault.empty()) return;
  const size_t colon = fault.find(':');
  const std::string kind = fault.substr(0, colon);
  if (colon == std::string::npos || (kind != "kill" && kind != "abort" && kind != "hang")) {
    static bool said = false;
    if (!said) std::cerr << "bench: P4S_BENCH_FAULT=" << fault << ": not kill:, abort: or hang:<case>; ignored\n";
    said = true;
    return;
  }
  if (fault.compare(colon + 1, std::string::npos, case_name) != 0) return;
  if (kind == "kill") std::raise(SIGKILL);
  if (kind == "abort") {
    std::cerr << "bench: P4S_BENCH_FAULT: aborting in " << case_name << std::endl;
    std::abort();
  }
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

}  // namespace p4s::sweep_guard
