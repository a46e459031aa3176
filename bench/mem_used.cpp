#include "bench/mem_used.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace p4s::bench {
namespace {

// A "Key:   1234 kB" line's value in bytes, or -1.
int64_t field_kib(const std::string& text, const std::string& key) {
  size_t at = 0;
  while ((at = text.find(key, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      std::istringstream line(text.substr(at + key.size(), text.find('\n', at) - at - key.size()));
      int64_t kib = -1;
      std::string unit;
      if (line >> kib >> unit && unit == "kB" && kib >= 0) return kib * 1024;
      return -1;
    }
    at += key.size();
  }
  return -1;
}

}  // namespace

std::optional<ResidentMemory> parse_proc_status(const std::string& status_text) {
  const int64_t rss = field_kib(status_text, "VmRSS:");
  const int64_t hwm = field_kib(status_text, "VmHWM:");
  if (rss < 0 || hwm < 0) return std::nullopt;
  return ResidentMemory{rss, hwm};
}

ResidentMemory read_resident_memory() {
  std::ifstream in("/proc/self/status");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error("/proc/self/status: cannot read it");
  const std::optional<ResidentMemory> m = parse_proc_status(text.str());
  if (!m) throw std::runtime_error("/proc/self/status: no VmRSS and VmHWM lines");
  return *m;
}

std::string reset_peak_resident() {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  const ssize_t written = ::write(fd, "5", 1);
  const int error = errno;
  ::close(fd);
  if (written != 1) return std::strerror(error);
  return {};
}

}  // namespace p4s::bench
