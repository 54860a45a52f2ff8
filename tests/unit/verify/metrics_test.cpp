// Verification scores against values computed by hand on tiny grids.
#include "neuralom/verify/metrics.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace neuralom {
namespace {

const double kSqrt2 = std::sqrt(2.0);

// A 4-row, 1-column grid: latitudes −90, −45, 0, 45 → weights 0, √2/2, 1, √2/2.
at::Tensor column(std::initializer_list<double> values) {
  return at::tensor(std::vector<double>(values), at::kDouble).view({1, 1, 4, 1});
}

at::Tensor all_ocean_weights() {
  return at::tensor(latitude_weights(4), at::kDouble).view({1, 4, 1});
}

TEST(LatitudeWeights, FollowTheReferenceGridLabelling) {
  const auto w = latitude_weights(4);
  ASSERT_EQ(w.size(), 4U);
  EXPECT_NEAR(w[0], 0.0, 1e-15);  // −90°
  EXPECT_DOUBLE_EQ(w[1], std::cos(-M_PI / 4));
  EXPECT_DOUBLE_EQ(w[2], 1.0);
  EXPECT_DOUBLE_EQ(w[3], std::cos(M_PI / 4));
  // 360 rows: row 180 is the equator, row 0 the south pole; no row at +90.
  const auto full = latitude_weights(360);
  EXPECT_DOUBLE_EQ(full[180], 1.0);
  EXPECT_NEAR(full[359], std::cos(89.5 * M_PI / 180.0), 1e-15);
}

TEST(WeightedScores, MatchHandComputedValues) {
  const at::Tensor p = column({1, 2, 3, 4});
  const at::Tensor t = column({0, 2, 1, 4});
  const WeightedSums s = weighted_sums(p, t, all_ocean_weights());
  // Σw = 0 + √2/2 + 1 + √2/2 = 1 + √2;  Σw(p−t)² = 0·1 + 0 + 1·4 + 0 = 4.
  EXPECT_NEAR(s.weight.item<double>(), 1 + kSqrt2, 1e-12);
  EXPECT_NEAR(field_mse(s).item<double>(), 4.0 / (1 + kSqrt2), 1e-12);
  // Σwpt = 3 + (√2/2)(4 + 16) = 3 + 10√2; Σwp² = 9 + 10√2; Σwt² = 1 + 10√2.
  const double acc = (3 + 10 * kSqrt2) / std::sqrt((9 + 10 * kSqrt2) * (1 + 10 * kSqrt2));
  EXPECT_NEAR(field_acc(s).item<double>(), acc, 1e-12);
}

TEST(WeightedScores, LandPointsAreLeftOut) {
  at::Tensor w = all_ocean_weights();
  w[0][2][0] = 0.0;  // the equator row is land
  const WeightedSums s = weighted_sums(column({1, 2, 3, 4}), column({0, 2, 1, 4}), w);
  // The only error was on the land row.
  EXPECT_NEAR(s.weight.item<double>(), kSqrt2, 1e-12);
  EXPECT_NEAR(field_mse(s).item<double>(), 0.0, 1e-15);
  EXPECT_NEAR(field_acc(s).item<double>(), 1.0, 1e-12);  // p = t on the ocean rows
}

TEST(WeightedScores, ZeroAnomalyGivesUndefinedAcc) {
  const WeightedSums s = weighted_sums(column({0, 0, 0, 0}), column({0, 2, 1, 4}), all_ocean_weights());
  EXPECT_TRUE(std::isnan(field_acc(s).item<double>()));
  // RMSE of a zero forecast is the weighted RMS of the truth: (√2/2·4 + 1 + √2/2·16)/(1+√2).
  EXPECT_NEAR(field_mse(s).item<double>(), (1 + 10 * kSqrt2) / (1 + kSqrt2), 1e-12);
}

/// The table of the ICs of the accumulator's batch.
MetricsTable table_of(MetricsAccumulator& acc) {
  const std::vector<IcMetrics> ics = acc.take_batch();
  std::vector<const IcMetrics*> pointers;
  for (const auto& ic : ics) pointers.push_back(&ic);
  return metrics_table(acc.system(), acc.variables(), acc.channel_std(), pointers);
}

TEST(MetricsAccumulator, AveragesMseOverInitialConditionsBeforeTheRoot) {
  // Two channels; channel 1 is scaled ×2 so its errors are ×2 and its ACC is unchanged.
  at::Tensor w = all_ocean_weights().expand({2, 4, 1}).contiguous();
  MetricsAccumulator acc("model", {"A", "B"}, {0.5, 4.0}, /*max_lead=*/2, w);
  // IC 0: error 1 on every row; IC 1: error 3 on every row.
  const at::Tensor t = at::zeros({2, 2, 4, 1}, at::kDouble);
  at::Tensor p = at::ones({2, 2, 4, 1}, at::kDouble);
  p[1].fill_(3.0);
  p.select(1, 1).mul_(2.0);
  acc.add(2, p, t);
  const MetricsTable table = table_of(acc);
  ASSERT_EQ(table.leads, std::vector<int64_t>{2});  // only leads that received data
  ASSERT_EQ(table.ic_count, std::vector<int64_t>{2});
  // mse per IC: 1 and 9 → RMSE = √5 (not (1 + 3)/2 = 2).
  EXPECT_NEAR(table.rmse[0][0], std::sqrt(5.0), 1e-12);
  EXPECT_NEAR(table.rmse[0][1], 2 * std::sqrt(5.0), 1e-12);
  EXPECT_NEAR(table.nrmse[0][0], std::sqrt(5.0) / 0.5, 1e-12);
  EXPECT_NEAR(table.nrmse[0][1], 2 * std::sqrt(5.0) / 4.0, 1e-12);
  EXPECT_NEAR(table.mean_nrmse[0], (2 * std::sqrt(5.0) + 0.5 * std::sqrt(5.0)) / 2, 1e-12);
  // Truth is zero: ACC undefined → NaN, and the mean over variables is NaN too.
  EXPECT_TRUE(std::isnan(table.acc[0][0]));
  EXPECT_EQ(table.variable_column("B"), 1);
  EXPECT_EQ(table.lead_row(2), 0);
  EXPECT_EQ(table.lead_row(1), -1);
}

TEST(MetricsAccumulator, AccIsTheMeanOverInitialConditions) {
  at::Tensor w = all_ocean_weights();
  MetricsAccumulator acc("model", {"A"}, {1.0}, 1, w);
  // IC 0: perfect (ACC 1); IC 1: anti-correlated (ACC −1) → mean 0.
  at::Tensor t = at::cat({column({0, 1, -1, 2}), column({0, 1, -1, 2})}, 0);
  at::Tensor p = at::cat({column({0, 1, -1, 2}), column({0, -1, 1, -2})}, 0);
  acc.add(1, p, t);
  const MetricsTable table = table_of(acc);
  EXPECT_NEAR(table.acc[0][0], 0.0, 1e-12);
  EXPECT_NEAR(table.mean_acc[0], 0.0, 1e-12);
}

TEST(MetricsAccumulator, KeepsEachInitialConditionApart) {
  at::Tensor w = all_ocean_weights();
  MetricsAccumulator acc("model", {"A"}, {1.0}, /*max_lead=*/2, w);
  const at::Tensor t = at::zeros({2, 1, 4, 1}, at::kDouble);
  at::Tensor p = at::ones({2, 1, 4, 1}, at::kDouble);
  p[1].fill_(3.0);
  acc.add(1, p, t);
  acc.add(2, p * 2, t);
  const std::vector<IcMetrics> ics = acc.take_batch();
  ASSERT_EQ(ics.size(), 2U);
  EXPECT_EQ(ics[0].channels, 1);
  EXPECT_EQ(ics[1].fields, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(ics[0].mse[1], 1.0);
  EXPECT_DOUBLE_EQ(ics[1].mse[1], 9.0);
  EXPECT_DOUBLE_EQ(ics[1].mse[2], 36.0);
  EXPECT_TRUE(acc.take_batch().empty());  // the batch was taken
}

TEST(MetricsTable, SumsInTheOrderGivenWhateverTheBatching) {
  // One IC per batch or both in one batch: the same per-IC scores, the same table, bit for bit.
  at::Tensor w = all_ocean_weights();
  const at::Tensor t = at::cat({column({0.1, 0.7, -0.3, 2.2}), column({1.3, -0.9, 0.4, 0.2})}, 0);
  const at::Tensor p = at::cat({column({0.3, 0.5, -0.1, 2.0}), column({1.0, -1.1, 0.8, 0.1})}, 0);
  MetricsAccumulator both("model", {"A"}, {1.0}, 1, w);
  both.add(1, p, t);
  const std::vector<IcMetrics> together = both.take_batch();
  MetricsAccumulator one("model", {"A"}, {1.0}, 1, w);
  std::vector<IcMetrics> apart;
  for (int64_t i = 0; i < 2; ++i) {
    one.add(1, p.narrow(0, i, 1), t.narrow(0, i, 1));
    apart.push_back(one.take_batch().front());
  }
  const MetricsTable a = metrics_table("model", {"A"}, {1.0}, {&together[0], &together[1]});
  const MetricsTable b = metrics_table("model", {"A"}, {1.0}, {&apart[0], &apart[1]});
  EXPECT_EQ(a.rmse[0][0], b.rmse[0][0]);
  EXPECT_EQ(a.acc[0][0], b.acc[0][0]);
  EXPECT_EQ(a.ic_count, std::vector<int64_t>{2});
  EXPECT_TRUE(metrics_table("model", {"A"}, {1.0}, {}).leads.empty());
  IcMetrics other = apart[0];
  other.fields.push_back(0);
  EXPECT_THROW(metrics_table("model", {"A"}, {1.0}, {&apart[0], &other}), std::invalid_argument);
}

TEST(MetricsTable, MeansLeaveOutVariablesWithoutOceanPoints) {
  // Channel B is land everywhere: its scores are 0/0 = NaN, and the means over variables are
  // those of A alone instead of NaN.
  at::Tensor w = all_ocean_weights().expand({2, 4, 1}).contiguous();
  w[1].zero_();
  EXPECT_EQ(channels_with_ocean(w), (std::vector<bool>{true, false}));
  EXPECT_EQ(channels_with_ocean(at::ones({3, 2, 2}, at::kBool).index_put_({1}, false)),
            (std::vector<bool>{true, false, true}));
  MetricsAccumulator acc("model", {"A", "B"}, {0.5, 4.0}, /*max_lead=*/1, w);
  const at::Tensor t = at::cat({column({0, 1, -1, 2}), column({0, 1, -1, 2})}, 1);
  const at::Tensor p = at::cat({column({1, 2, 0, 3}), column({5, 5, 5, 5})}, 1);
  acc.add(1, p, t);
  const std::vector<IcMetrics> ics = acc.take_batch();
  const MetricsTable table = metrics_table("model", {"A", "B"}, {0.5, 4.0}, {&ics[0]}, channels_with_ocean(w));
  EXPECT_EQ(table.unscored, std::vector<std::string>{"B"});
  EXPECT_TRUE(std::isnan(table.rmse[0][1]));
  EXPECT_TRUE(std::isnan(table.acc[0][1]));
  // A: error 1 at every row, so RMSE 1 and nRMSE 1 / 0.5 = 2.
  EXPECT_NEAR(table.rmse[0][0], 1.0, 1e-12);
  EXPECT_NEAR(table.mean_nrmse[0], 2.0, 1e-12);
  EXPECT_NEAR(table.mean_acc[0], table.acc[0][0], 1e-15);
  // Without the flags every variable counts, and the NaN of B reaches the means.
  const MetricsTable all = metrics_table("model", {"A", "B"}, {0.5, 4.0}, {&ics[0]});
  EXPECT_TRUE(all.unscored.empty());
  EXPECT_TRUE(std::isnan(all.mean_nrmse[0]));
  // No variable with ocean points: the means are NaN, not a division by zero's accident.
  const MetricsTable none = metrics_table("model", {"A", "B"}, {0.5, 4.0}, {&ics[0]}, {false, false});
  EXPECT_TRUE(std::isnan(none.mean_nrmse[0]));
  EXPECT_TRUE(std::isnan(none.mean_acc[0]));
  EXPECT_THROW(metrics_table("model", {"A", "B"}, {0.5, 4.0}, {&ics[0]}, {true}), std::invalid_argument);
}

}  // namespace
}  // namespace neuralom
