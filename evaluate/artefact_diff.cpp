#include "evaluate/artefact_diff.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/atomic_file.hpp"

namespace p4s::evaluate {
namespace {

// A value as a difference shows it: compact, and cut short.
std::string shown(const nlohmann::json& v) {
  std::string text = v.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

// The first difference between two JSON values, walking objects in the committed file's key
// order (then keys only the fresh one has) and arrays by index; "" when they are equal.
std::string json_difference(const nlohmann::json& committed, const nlohmann::json& fresh, const std::string& path) {
  if (committed.is_object() && fresh.is_object()) {
    for (auto it = committed.begin(); it != committed.end(); ++it) {
      const std::string p = child(path, it.key());
      if (!fresh.contains(it.key())) return "field \"" + p + "\": committed " + shown(*it) + ", the data give none";
      std::string d = json_difference(*it, fresh[it.key()], p);
      if (!d.empty()) return d;
    }
    for (auto it = fresh.begin(); it != fresh.end(); ++it)
      if (!committed.contains(it.key()))
        return "field \"" + child(path, it.key()) + "\": not committed, the data give " + shown(*it);
    return "";
  }
  if (committed.is_array() && fresh.is_array()) {
    const size_t n = std::min(committed.size(), fresh.size());
    for (size_t i = 0; i < n; ++i) {
      std::string d = json_difference(committed[i], fresh[i], path + "[" + std::to_string(i) + "]");
      if (!d.empty()) return d;
    }
    if (committed.size() != fresh.size())
      return "field \"" + path + "\": committed " + std::to_string(committed.size()) + " entries, the data give " +
             std::to_string(fresh.size());
    return "";
  }
  if (committed == fresh) return "";
  return "field \"" + (path.empty() ? std::string("(document)") : path) + "\": committed " + shown(committed) +
         ", the data give " + shown(fresh);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string cut(const std::string& line) { return line.size() > 100 ? line.substr(0, 97) + "..." : line; }

std::string text_difference(const std::string& committed, const std::string& fresh) {
  const std::vector<std::string> a = lines_of(committed), b = lines_of(fresh);
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) {
      // Where in the line they part, so that a figure in a long table row shows.
      size_t at = 0;
      while (at < a[i].size() && at < b[i].size() && a[i][at] == b[i][at]) ++at;
      const size_t from = at > 40 ? at - 40 : 0;
      return "line " + std::to_string(i + 1) + ": committed \"" + cut(a[i].substr(from)) + "\", the data give \"" +
             cut(b[i].substr(from)) + "\"";
    }
  if (a.size() != b.size())
    return "committed " + std::to_string(a.size()) + " lines, the data give " + std::to_string(b.size());
  return "the text differs in its line endings or final newline";
}

bool is_json_path(const std::string& path) { return path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0; }

}  // namespace

std::optional<std::string> first_difference(const std::string& committed_path, const std::string& fresh) {
  std::string committed;
  try {
    committed = read_file(committed_path);
  } catch (const std::exception& e) {
    return std::string(e.what()) + " (regenerate it: scripts/regenerate-models.sh)";
  }
  if (committed == fresh) return std::nullopt;
  std::string what;
  if (is_json_path(committed_path)) {
    try {
      what = json_difference(nlohmann::json::parse(committed), nlohmann::json::parse(fresh), "");
    } catch (const nlohmann::json::exception&) {
      what = "not valid JSON";
    }
    if (what.empty()) what = "the same values, written differently";
  } else {
    what = text_difference(committed, fresh);
  }
  return committed_path + ": differs from what the data give: " + what;
}

}  // namespace p4s::evaluate
