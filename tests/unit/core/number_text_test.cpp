// Numbers from text, all or nothing.
#include "neuralom/core/number_text.h"

#include <gtest/gtest.h>

namespace neuralom {
namespace {

TEST(NumberTextTest, Integers) {
  EXPECT_EQ(parse_integer("12"), 12);
  EXPECT_EQ(parse_integer("-3"), -3);
  for (const char* bad : {"", "12x", "1.5", " ", "x", "99999999999999999999"}) {
    EXPECT_FALSE(parse_integer(bad).has_value()) << bad;
  }
}

TEST(NumberTextTest, Reals) {
  EXPECT_DOUBLE_EQ(*parse_real("0.9"), 0.9);
  EXPECT_DOUBLE_EQ(*parse_real("-1e-3"), -1e-3);
  EXPECT_DOUBLE_EQ(*parse_real("90"), 90.0);
  for (const char* bad : {"", "0.9x", "north", "1e999", "nan", "inf"}) {
    EXPECT_FALSE(parse_real(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace neuralom
