// The first difference between a committed artefact and what the data give: none when equal
// byte for byte; else the file and the first field or line that differs, either way.
#include <gtest/gtest.h>

#include <string>

#include "common/atomic_file.hpp"
#include "evaluate/artefact_diff.hpp"

namespace p4s::evaluate {
namespace {

std::string committed(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/artefact_diff_" + name;
  write_file_atomically(path, text);
  return path;
}

TEST(ArtefactDiff, EqualBytesAreNoDifference) {
  EXPECT_FALSE(first_difference(committed("same.json", "{\"a\": 1}\n"), "{\"a\": 1}\n"));
  EXPECT_FALSE(first_difference(committed("same.md", "# x\n"), "# x\n"));
}

TEST(ArtefactDiff, JsonNamesTheFirstFieldThatDiffersInEitherDirection) {
  const std::string path = committed("e.json", R"({"m": {"p4s": {"mape": 12.19, "worst": 76.4}, "b": [1, 2]}})");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 13.57, "worst": 76.4}, "b": [1, 2]}})"),
            path + ": differs from what the data give: field \"m.p4s.mape\": committed 12.19, the data give 13.57");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 1.0, "worst": 76.4}, "b": [1, 2]}})"),
            path + ": differs from what the data give: field \"m.p4s.mape\": committed 12.19, the data give 1.0");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 12.19}, "b": [1, 2]}})"),
            path + ": differs from what the data give: field \"m.p4s.worst\": committed 76.4, the data give none");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 12.19, "worst": 76.4, "r2": 0.9}, "b": [1, 2]}})"),
            path + ": differs from what the data give: field \"m.p4s.r2\": not committed, the data give 0.9");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 12.19, "worst": 76.4}, "b": [1, 3]}})"),
            path + ": differs from what the data give: field \"m.b[1]\": committed 2, the data give 3");
  EXPECT_EQ(*first_difference(path, R"({"m": {"p4s": {"mape": 12.19, "worst": 76.4}, "b": [1]}})"),
            path + ": differs from what the data give: field \"m.b\": committed 2 entries, the data give 1");
  EXPECT_EQ(*first_difference(path, "{\"m\": {\"p4s\": {\"mape\": 12.19, \"worst\": 76.4}, \"b\": [1, 2]}}\n"),
            path + ": differs from what the data give: the same values, written differently");
}

TEST(ArtefactDiff, TextNamesTheFirstLineThatDiffersAndWhereInIt) {
  const std::string path = committed("r.md", "# Report\n\n| `latency_ms` | p4s (ours) | 12.19% | 76.4% |\n");
  const std::optional<std::string> d = first_difference(path, "# Report\n\n| `latency_ms` | p4s (ours) | 1.00% | 76.4% |\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->rfind(path + ": differs from what the data give: line 3: committed \"", 0), 0u) << *d;
  EXPECT_NE(d->find("12.19%"), std::string::npos) << *d;
  EXPECT_NE(d->find("1.00%"), std::string::npos) << *d;
  EXPECT_EQ(*first_difference(path, "# Report\n"), path + ": differs from what the data give: committed 3 lines, the data give 1");
}

TEST(ArtefactDiff, AMissingFileIsADifference) {
  const std::optional<std::string> d = first_difference(testing::TempDir() + "/artefact_diff_none.json", "{}");
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("cannot open"), std::string::npos) << *d;
}

}  // namespace
}  // namespace p4s::evaluate
