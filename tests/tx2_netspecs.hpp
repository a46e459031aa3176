// The TX2 results folder as the repository keeps it (results.json, model.json, netspecs/,
// held-out/), and its NetSpec files for tests that read them all. P4S_SOURCE_DIR comes from
// p4s_add_gtest.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace p4s::test {

inline const std::string kTx2Results = std::string(P4S_SOURCE_DIR) + "/results/jetson-tx2/pytorch-1.6";
inline const std::string kTx2Dir = kTx2Results + "/netspecs";

// Every .json file in kTx2Dir, sorted: a test's order does not depend on the file system's.
inline std::vector<std::string> tx2_netspec_files() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(kTx2Dir))
    if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(entry.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace p4s::test
