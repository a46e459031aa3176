// What every fuzz target shares: checks that hold in every build type, and the rule that a
// reader of outside input may throw only its documented error, with a one-line message.
// Anything else (another exception, a failed check, a sanitizer report, a hang) is a bug that
// libFuzzer records as a crash with its input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

namespace p4s::fuzz {

// Reports and aborts, so that libFuzzer saves the input that got here.
[[noreturn]] inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Like assert, but also under NDEBUG; `detail` (a std::string expression) says what was seen.
#define P4S_FUZZ_CHECK(cond, detail)                                                    \
  do {                                                                                  \
    if (!(cond)) ::p4s::fuzz::fail(__FILE__, __LINE__, std::string(#cond " -- ") + (detail)); \
  } while (false)

// An error message as the project's contract wants it: one non-empty line, starting with
// `prefix` (the source the reader was given, e.g. "fuzz: ").
inline void check_message(std::string_view message, std::string_view prefix, const char* what) {
  const std::string shown(message.substr(0, 2000));
  if (message.empty()) fail(__FILE__, __LINE__, std::string(what) + ": empty error message");
  if (message.find_first_of("\n\r") != std::string_view::npos)
    fail(__FILE__, __LINE__, std::string(what) + ": error message is not one line: " + shown);
  if (message.substr(0, prefix.size()) != prefix)
    fail(__FILE__, __LINE__, std::string(what) + ": error message does not start with \"" +
                                 std::string(prefix) + "\": " + shown);
}

// Runs `f` (which returns a value), allowing it to throw the `Allowed` types only: returns f's
// result, or nullopt when it threw one of them with a well-formed message (check_message). Any
// other exception aborts with its type and message. `what` names the call in reports.
template <class... Allowed, class F>
auto only_throws(const char* what, std::string_view prefix, F&& f)
    -> std::optional<decltype(std::forward<F>(f)())> {
  static_assert(sizeof...(Allowed) > 0, "name the exceptions the call may throw");
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    if ((... || (dynamic_cast<const Allowed*>(&e) != nullptr))) {
      check_message(e.what(), prefix, what);
      return std::nullopt;
    }
    fail(__FILE__, __LINE__, std::string(what) + " threw " + typeid(e).name() +
                                 ", which it must not: " + e.what());
  } catch (...) {
    fail(__FILE__, __LINE__, std::string(what) + " threw something that is not a std::exception");
  }
}

// Runs `f`, which must not throw at all (a consumer of input already validated).
template <class F>
decltype(auto) must_not_throw(const char* what, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception& e) {
    fail(__FILE__, __LINE__, std::string(what) + " threw " + typeid(e).name() + ": " + e.what());
  }
}

inline std::string as_text(const unsigned char* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace p4s::fuzz
