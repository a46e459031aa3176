#include "common/number_text.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace p4s {
namespace {

TEST(NumberText, FiniteNumberIsTheWholeText) {
  EXPECT_EQ(parse_finite_number("2.5"), 2.5);
  EXPECT_EQ(parse_finite_number("-1e3"), -1000.0);
  EXPECT_EQ(parse_finite_number("0"), 0.0);
  for (const char* bad : {"", " 1", "1 ", "1x", "x", "nan", "inf", "-Infinity", "1e999"})
    EXPECT_FALSE(parse_finite_number(bad)) << '"' << bad << '"';
}

TEST(NumberText, IntegerIsTheWholeTextInTheTypesRange) {
  EXPECT_EQ(parse_integer<int64_t>("42"), 42);
  EXPECT_EQ(parse_integer<int64_t>("-7"), -7);
  EXPECT_EQ(parse_integer<int64_t>("007"), 7);
  EXPECT_EQ(parse_integer<int64_t>("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_integer<int64_t>("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_integer<uint64_t>("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(parse_integer<int>("2147483647"), 2147483647);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "12a", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999999"})
    EXPECT_FALSE(parse_integer<int64_t>(bad)) << '"' << bad << '"';
  // An unsigned type takes no sign at all, and each type its own range.
  EXPECT_FALSE(parse_integer<uint64_t>("-1"));
  EXPECT_FALSE(parse_integer<uint64_t>("18446744073709551616"));
  EXPECT_FALSE(parse_integer<int>("2147483648"));
  EXPECT_FALSE(parse_integer<uint32_t>("4294967296"));
  // Only the text's own characters are read: a view into a longer string stops where it ends.
  const std::string longer = "123456";
  EXPECT_EQ(parse_integer<int>(std::string_view(longer).substr(0, 3)), 123);
}

}  // namespace
}  // namespace p4s
