// Contingency scores against hand-computed tables, including the undefined cases.
#include "neuralom/verify/contingency.h"

#include <cmath>

#include <gtest/gtest.h>

namespace neuralom {
namespace {

TEST(ContingencyTest, HandComputedTable) {
  // H = 30/40 = 3/4, F = 20/60 = 1/3.
  const ContingencyCounts c{/*hits=*/30, /*misses=*/10, /*false_alarms=*/20, /*correct_negatives=*/40};
  EXPECT_EQ(c.total(), 100);
  EXPECT_DOUBLE_EQ(hit_rate(c), 0.75);
  EXPECT_DOUBLE_EQ(false_alarm_rate(c), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(critical_success_index(c), 0.5);
  // SEDI = [ln(1/3) − ln(3/4) − ln(2/3) + ln(1/4)] / [ln(1/3) + ln(3/4) + ln(2/3) + ln(1/4)]
  //      = ln(1/6) / ln(1/24) = ln 6 / ln 24.
  EXPECT_NEAR(symmetric_extremal_dependence_index(c), std::log(6.0) / std::log(24.0), 1e-15);
}

TEST(ContingencyTest, NoSkillGivesZeroSedi) {
  // H = F = 0.2: the forecast is independent of the observation.
  const ContingencyCounts c{2, 8, 18, 72};
  EXPECT_NEAR(symmetric_extremal_dependence_index(c), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(critical_success_index(c), 2.0 / 28.0);
}

TEST(ContingencyTest, PerfectAndOppositeForecastsApproachTheBounds) {
  // SEDI tends to +1 for H → 1, F → 0 and to −1 for the reverse.
  EXPECT_GT(symmetric_extremal_dependence_index(ContingencyCounts{999, 1, 1, 999}), 0.99);
  EXPECT_LT(symmetric_extremal_dependence_index(ContingencyCounts{1, 999, 999, 1}), -0.99);
}

TEST(ContingencyTest, NoEventsObservedOrForecast) {
  const ContingencyCounts c{0, 0, 0, 100};
  EXPECT_TRUE(std::isnan(hit_rate(c)));
  EXPECT_DOUBLE_EQ(false_alarm_rate(c), 0.0);
  EXPECT_TRUE(std::isnan(critical_success_index(c)));
  EXPECT_TRUE(std::isnan(symmetric_extremal_dependence_index(c)));
}

TEST(ContingencyTest, AllHits) {
  // Every point an observed and forecast event: CSI 1, F undefined (no non-events), SEDI undefined.
  const ContingencyCounts c{50, 0, 0, 0};
  EXPECT_DOUBLE_EQ(hit_rate(c), 1.0);
  EXPECT_TRUE(std::isnan(false_alarm_rate(c)));
  EXPECT_DOUBLE_EQ(critical_success_index(c), 1.0);
  EXPECT_TRUE(std::isnan(symmetric_extremal_dependence_index(c)));
}

TEST(ContingencyTest, PerfectForecastHasCsiOneAndUndefinedSedi) {
  // H = 1 and F = 0: the logarithms of 1 − H and F are −∞.
  const ContingencyCounts c{10, 0, 0, 90};
  EXPECT_DOUBLE_EQ(critical_success_index(c), 1.0);
  EXPECT_TRUE(std::isnan(symmetric_extremal_dependence_index(c)));
}

TEST(ContingencyTest, EventsNeverForecast) {
  const ContingencyCounts c{0, 10, 0, 90};
  EXPECT_DOUBLE_EQ(critical_success_index(c), 0.0);
  EXPECT_DOUBLE_EQ(hit_rate(c), 0.0);
  EXPECT_TRUE(std::isnan(symmetric_extremal_dependence_index(c)));
}

TEST(ContingencyTest, EmptyTable) {
  const ContingencyCounts c;
  EXPECT_TRUE(std::isnan(critical_success_index(c)));
  EXPECT_TRUE(std::isnan(symmetric_extremal_dependence_index(c)));
}

}  // namespace
}  // namespace neuralom
