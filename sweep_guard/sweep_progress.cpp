#include "sweep_guard/sweep_progress.hpp"

#include <cmath>
#include <cstdio>

namespace p4s::sweep_guard {

std::string clock_text(double seconds) {
  const long s = seconds > 0 && std::isfinite(seconds) ? std::lround(seconds) : 0;
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

std::optional<std::string> SweepProgress::case_done(const std::string& case_name, double now_s) {
  ++done_;
  if (now_s - last_s_ < every_s_ && done_ != total_) return std::nullopt;
  last_s_ = now_s;
  const double elapsed = now_s - start_s_;
  std::string line = "[" + std::to_string(done_) + (total_ > 0 ? "/" + std::to_string(total_) : "") + "] " +
                     case_name + " done; " + clock_text(elapsed) + " elapsed";
  if (total_ > done_ && done_ >= 2)
    line += ", about " + clock_text(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_)) + " left";
  return line;
}

}  // namespace p4s::sweep_guard
