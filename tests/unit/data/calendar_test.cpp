// Dates of day indices: day 0 = 1 January, leap years, the next year, file names.
#include "neuralom/data/calendar.h"

#include <gtest/gtest.h>

namespace neuralom {
namespace {

TEST(CalendarTest, LeapYears) {
  EXPECT_TRUE(is_leap_year(2020));
  EXPECT_FALSE(is_leap_year(2021));
  EXPECT_FALSE(is_leap_year(1900));  // a century not divisible by 400
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_EQ(days_in_year(2020), 366);
  EXPECT_EQ(days_in_year(2019), 365);
}

TEST(CalendarTest, DatesOfDayIndices) {
  EXPECT_EQ(date_of_day(2020, 0).iso(), "2020-01-01");
  EXPECT_EQ(date_of_day(2020, 31).iso(), "2020-02-01");
  EXPECT_EQ(date_of_day(2020, 59).iso(), "2020-02-29");  // leap day
  EXPECT_EQ(date_of_day(2021, 59).iso(), "2021-03-01");
  EXPECT_EQ(date_of_day(2020, 365).iso(), "2020-12-31");
  EXPECT_EQ(date_of_day(2020, 366).iso(), "2021-01-01");  // past the end of the year
  EXPECT_EQ(date_of_day(2019, 365).iso(), "2020-01-01");
  EXPECT_EQ(date_of_day(2020, -1).iso(), "2019-12-31");
  EXPECT_EQ(date_of_day(1900, 59).iso(), "1900-03-01");
  EXPECT_TRUE(date_of_day(2000, 59) == (CivilDate{2000, 2, 29}));
}

TEST(CalendarTest, CfUnits) { EXPECT_EQ(days_since_units(2020), "days since 2020-01-01 00:00:00"); }

TEST(CalendarTest, YearFromFileName) {
  EXPECT_EQ(year_from_file_name("data/test/2020.h5"), 2020);
  EXPECT_EQ(year_from_file_name("/x/1999.h5"), 1999);
  EXPECT_FALSE(year_from_file_name("data/test/ocean.h5").has_value());
  EXPECT_FALSE(year_from_file_name("data/test/20201.h5").has_value());
  EXPECT_FALSE(year_from_file_name("data/test/y2020.h5").has_value());
}

}  // namespace
}  // namespace neuralom
