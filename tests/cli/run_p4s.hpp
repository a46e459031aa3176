// Running the real p4s binary from a test: its exit status, stdout and stderr.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/atomic_file.hpp"

extern char** environ;

namespace p4s::test {

struct Outcome {
  int status = -1;  // exit status; -1 when the process did not exit normally
  std::string out, err;
};

// A path in the test's temporary folder, unique to this process (ctest runs tests in
// parallel), with nothing there yet.
inline std::string temp_path(const std::string& name) {
  const std::string path = ::testing::TempDir() + "/p4s_cli_" + std::to_string(getpid()) + "_" + name;
  unlink(path.c_str());
  return path;
}

// Runs `exe` with `args`, capturing stdout and stderr through files.
inline Outcome run_process(const std::string& exe, const std::vector<std::string>& args) {
  const std::string out_path = temp_path("stdout.txt"), err_path = temp_path("stderr.txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_strings = {exe};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  Outcome r;
  const int started = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (started != 0) {
    ADD_FAILURE() << "cannot start " << exe;
    return r;
  }
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return r;
}

inline bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

#ifdef P4S_EXE
// Runs the p4s binary under test (P4S_EXE, given by CMake).
inline Outcome p4s(const std::vector<std::string>& args) { return run_process(P4S_EXE, args); }
#endif

}  // namespace p4s::test
