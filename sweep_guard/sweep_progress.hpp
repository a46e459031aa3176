// Where a long sweep is: cases done of the total, time elapsed and an estimate of the time
// left, a line on stderr after a case at most every `every_s` seconds (and after the last), so
// that a sweep of hours on an edge board says how far it is without changing Google
// Benchmark's console or JSON output. Pure: the caller gives the clock's readings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace p4s::sweep_guard {

class SweepProgress {
 public:
  // `total`: the cases the run will report (0: unknown). `start_s`: the clock when it started.
  SweepProgress(std::size_t total, double start_s, double every_s = 10)
      : total_(total), start_s_(start_s), every_s_(every_s), last_s_(start_s) {}

  // After a case ended at `now_s`: the line, when one is due (`every_s` since the last one, or
  // the last case), e.g.
  //   "[12/51] Net/resnet18/bs:8 done; 0:31 elapsed, about 1:05 left"
  // (the caller puts the program's name before it).
  // The time left is the mean time per case so far times the cases left, said once two cases
  // are done; without a total, "[12] ... done; 0:31 elapsed".
  std::optional<std::string> case_done(const std::string& case_name, double now_s);

  std::size_t done() const { return done_; }

 private:
  std::size_t total_;
  double start_s_, every_s_, last_s_;
  std::size_t done_ = 0;
};

// Seconds as "0:31", "12:05", "3:02:15".
std::string clock_text(double seconds);

}  // namespace p4s::sweep_guard
