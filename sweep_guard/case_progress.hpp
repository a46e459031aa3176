// The case a sweep is running, kept in a small file (--p4s_progress=FILE) for whoever watches
// the sweep: the supervisor of an isolated sweep reads it to learn which case its child died
// in, and how long that case has run. Written at each start of a case (each repetition), by
// rename, so that a reader sees the old name or the new one, never half of one.
#pragma once

#include <optional>
#include <string>

namespace p4s::sweep_guard {

// Writes `case_name` (the bench's case name) and a newline to `path`. Throws
// std::runtime_error naming the path when it cannot. Not flushed to disk: its readers are
// processes of the same machine.
void write_case_progress(const std::string& path, const std::string& case_name);

// The case name in the file, or nullopt when it is absent or empty.
std::optional<std::string> read_case_progress(const std::string& path);

// Faults on purpose, to test what survives them: the environment variable P4S_BENCH_FAULT set
// to "<kind>:<case name>", kind kill (SIGKILL), abort (a message on stderr, then abort()) or
// hang (sleeps until killed), acted on when that case starts. Unset: nothing happens. A
// malformed value is said once on stderr and ignored.
void fault_if_asked(const std::string& case_name);

}  // namespace p4s::sweep_guard
