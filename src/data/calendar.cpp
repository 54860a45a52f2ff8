#include "neuralom/data/calendar.h"

#include <cctype>
#include <cstdio>
#include <filesystem>

namespace neuralom {
namespace {

/// Days from 1970-01-01 to y-m-d, and back: H. Hinnant's algorithms for the proleptic Gregorian
/// calendar (http://howardhinnant.github.io/date_algorithms.html), exact for any int year.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

}  // namespace

std::string CivilDate::iso() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_year(int year) { return is_leap_year(year) ? 366 : 365; }

CivilDate date_of_day(int year, int64_t day) { return civil_from_days(days_from_civil(year, 1, 1) + day); }

std::string days_since_units(int year) { return "days since " + CivilDate{year, 1, 1}.iso() + " 00:00:00"; }

std::optional<int> year_from_file_name(const std::string& path) {
  const std::string stem = std::filesystem::path(path).stem().string();
  if (stem.size() != 4) return std::nullopt;
  for (const char c : stem) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
  }
  return std::stoi(stem);
}

}  // namespace neuralom
