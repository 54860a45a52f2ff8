// Dates of the data's days. A yearly data file `<year>.h5` holds one field per day, day 0 being
// 1 January of that year (the reference's layout); dates follow the proleptic Gregorian calendar,
// so that day 59 is 29 February in a leap year and 1 March otherwise, and days past the end of the
// year continue into the next.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace neuralom {

/// A date of the proleptic Gregorian calendar.
struct CivilDate {
  int year = 1970;
  int month = 1;  ///< 1..12
  int day = 1;    ///< 1..31

  /// "2020-02-29".
  std::string iso() const;
  bool operator==(const CivilDate& other) const {
    return year == other.year && month == other.month && day == other.day;
  }
};

/// Gregorian leap-year rule: divisible by 4, except centuries not divisible by 400.
bool is_leap_year(int year);

/// 365 or 366.
int days_in_year(int year);

/// The date of day index `day` (0 = 1 January of `year`; negative days go back into earlier years).
CivilDate date_of_day(int year, int64_t day);

/// CF time units counting days from 1 January of `year`: "days since 2020-01-01 00:00:00".
std::string days_since_units(int year);

/// The year a data file is named after: "data/test/2020.h5" → 2020. Nothing if the file's stem is
/// not a year of four digits.
std::optional<int> year_from_file_name(const std::string& path);

}  // namespace neuralom
