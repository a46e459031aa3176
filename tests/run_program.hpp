// Running a program of the build from a test, as a user runs it: its exit status, standard
// output and standard error.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace p4s::test {

struct ProgramResult {
  int status = -1;  // the exit status; -1 when a signal ended it
  std::string out, err;
};

// The whole of a file ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `exe` with `args` (each quoted for the shell), its output captured through the files
// `scratch` + "stdout" and + "stderr", removed afterwards.
inline ProgramResult run_program(const std::string& exe, const std::vector<std::string>& args,
                                 const std::string& scratch) {
  std::string cmd = "'" + exe + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  const std::string out = scratch + "stdout", err = scratch + "stderr";
  cmd += " >'" + out + "' 2>'" + err + "'";
  const int raw = std::system(cmd.c_str());
  ProgramResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

}  // namespace p4s::test
