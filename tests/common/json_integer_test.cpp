#include "common/json_integer.hpp"

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace p4s {
namespace {

using nlohmann::json;

TEST(JsonInteger, IntegersInTheTypesRangeOnly) {
  EXPECT_EQ(json_integer<int>(json::parse("16")), 16);
  EXPECT_EQ(json_integer<int>(json::parse("-3")), -3);
  EXPECT_EQ(json_integer<int>(json::parse("2147483647")), std::numeric_limits<int>::max());
  EXPECT_EQ(json_integer<int>(json::parse("-2147483648")), std::numeric_limits<int>::min());
  EXPECT_FALSE(json_integer<int>(json::parse("2147483648")));
  EXPECT_FALSE(json_integer<int>(json::parse("-2147483649")));
  EXPECT_EQ(json_integer<int64_t>(json::parse("9223372036854775807")), std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(json_integer<int64_t>(json::parse("9223372036854775808")));
  EXPECT_EQ(json_integer<uint64_t>(json::parse("18446744073709551615")), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(json_integer<size_t>(json::parse("0")), 0u);
  EXPECT_FALSE(json_integer<size_t>(json::parse("-1")));
  EXPECT_FALSE(json_integer<uint8_t>(json::parse("256")));
  // Not integers: what get<Int>() would convert with undefined behaviour or on a guess.
  for (const char* text : {"1e308", "2.5", "16.0", "-1e308", "\"16\"", "true", "null", "[1]"}) {
    EXPECT_FALSE(json_integer<int>(json::parse(text))) << text;
    EXPECT_FALSE(json_integer<uint64_t>(json::parse(text))) << text;
  }
}

}  // namespace
}  // namespace p4s
