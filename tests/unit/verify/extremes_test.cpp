// ExtremesAccumulator on hand-made fields, and threshold files.
#include "neuralom/verify/extremes.h"

#include <cmath>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

#include "neuralom/core/errors.h"
#include "neuralom/verify/extremes_report.h"

namespace neuralom {
namespace {

using testing::TempDir;

/// One row of 4 points per channel: [1, C, 1, 4].
at::Tensor field(const std::vector<std::vector<float>>& channels) {
  std::vector<float> flat;
  for (const auto& c : channels) flat.insert(flat.end(), c.begin(), c.end());
  return at::tensor(flat, at::kFloat).view({1, static_cast<int64_t>(channels.size()), 1, 4});
}

/// Channel 0 on both tails (thresholds −1, 1) with its last point on land; channel 1 on the upper
/// tail (threshold 0.5).
ExtremesSpec spec() {
  ExtremesSpec s;
  s.variables = {{"U0", ExtremeTails::kBoth}, {"T0", ExtremeTails::kUpper}};
  s.channels = {0, 1};
  s.quantiles = {0.9};
  s.thresholds = {{ExtremeThreshold{-1.0, 1.0}}, {ExtremeThreshold{std::nan(""), 0.5}}};
  return s;
}

at::Tensor mask() {
  return at::tensor(std::vector<uint8_t>{1, 1, 1, 0, 1, 1, 1, 1}, at::kByte).to(at::kBool).view({2, 1, 4});
}

/// The table of the ICs of the accumulator's batch.
ExtremesTable table_of(ExtremesAccumulator& acc) {
  const std::vector<IcContingency> ics = acc.take_batch();
  std::vector<const IcContingency*> pointers;
  for (const auto& ic : ics) pointers.push_back(&ic);
  return extremes_table(acc.system(), acc.spec(), pointers);
}

TEST(ExtremesAccumulatorTest, HandComputedContingencyTables) {
  ExtremesAccumulator acc("model", spec(), /*max_lead=*/2, mask(), c10::kCPU);
  // Lead 1. Channel 0: observed events at points 0 (2 > 1) and 1 (−2 < −1); the point on land (5)
  // does not count; forecast events at 0 (1.5) and 2 (3). → 1 hit, 1 miss, 1 false alarm, 0 negatives.
  // Channel 1 (upper only): −3 is no event. Observed at 0, forecast at 0 → 1 hit, 3 correct negatives.
  const at::Tensor truth1 = field({{2.0F, -2.0F, 0.0F, 5.0F}, {1.0F, -3.0F, 0.0F, 0.0F}});
  const at::Tensor pred1 = field({{1.5F, 0.0F, 3.0F, 5.0F}, {1.0F, -3.0F, 0.0F, 0.0F}});
  acc.add(1, pred1, truth1);
  // Lead 2, twice (two ICs): no events anywhere.
  const at::Tensor zeros = at::zeros({1, 2, 1, 4});
  acc.add(2, zeros, zeros);
  acc.add(2, zeros, zeros);
  const ExtremesTable t = table_of(acc);
  ASSERT_EQ(t.leads, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(t.ic_count, (std::vector<int64_t>{1, 2}));
  const ContingencyCounts& u1 = t.counts[0][0][0];
  EXPECT_EQ(u1.hits, 1);
  EXPECT_EQ(u1.misses, 1);
  EXPECT_EQ(u1.false_alarms, 1);
  EXPECT_EQ(u1.correct_negatives, 0);
  EXPECT_DOUBLE_EQ(critical_success_index(u1), 1.0 / 3.0);
  const ContingencyCounts& t1 = t.counts[0][1][0];
  EXPECT_EQ(t1.hits, 1);
  EXPECT_EQ(t1.misses + t1.false_alarms, 0);
  EXPECT_EQ(t1.correct_negatives, 3);
  EXPECT_DOUBLE_EQ(critical_success_index(t1), 1.0);
  // No events: only correct negatives (3 ocean points of channel 0 per IC, 4 of channel 1).
  EXPECT_EQ(t.counts[1][0][0].correct_negatives, 6);
  EXPECT_EQ(t.counts[1][1][0].correct_negatives, 8);
  EXPECT_TRUE(std::isnan(critical_success_index(t.counts[1][0][0])));
}

TEST(ExtremesAccumulatorTest, ValuesEqualToTheThresholdAreNoEvents) {
  ExtremesAccumulator acc("model", spec(), 1, mask(), c10::kCPU);
  const at::Tensor edge = field({{1.0F, -1.0F, 0.0F, 0.0F}, {0.5F, 0.0F, 0.0F, 0.0F}});
  acc.add(1, edge, edge);
  const ExtremesTable t = table_of(acc);
  EXPECT_EQ(t.counts[0][0][0].hits, 0);
  EXPECT_EQ(t.counts[0][1][0].hits, 0);
}

TEST(ThresholdFileTest, ReadsAnExtremesCsvAndSelects) {
  const TempDir dir;
  const std::string path = dir.write(
      "t.csv",
      "system,lead,variable,channel,tails,quantile,lower_threshold,upper_threshold,hits\n"
      "model,1,U0,23,both,0.9,-0.75,0.72,0\n"
      "model,2,U0,23,both,0.9,-0.75,0.72,3\n"
      "model,1,T0,69,upper,0.9,,1.5,0\n");
  const ThresholdTable table = read_threshold_file(path);
  EXPECT_EQ(table.size(), 2U);
  const auto selected = select_thresholds(table, spec(), path);
  EXPECT_DOUBLE_EQ(selected[0][0].lower, -0.75);
  EXPECT_DOUBLE_EQ(selected[0][0].upper, 0.72);
  EXPECT_DOUBLE_EQ(selected[1][0].upper, 1.5);
  EXPECT_TRUE(std::isnan(selected[1][0].lower));
}

TEST(ThresholdFileTest, BadFilesNameTheProblem) {
  const TempDir dir;
  auto message = [](const std::string& path, const ExtremesSpec& s) {
    try {
      select_thresholds(read_threshold_file(path), s, path);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(dir.write("a.csv", "variable,upper_threshold\nU0,1\n"), spec()).find("must name the columns"),
            std::string::npos);
  EXPECT_NE(message(dir.write("b.csv", "variable,quantile,upper_threshold\nU0,0.9,abc\n"), spec()).find("b.csv:2"),
            std::string::npos);
  EXPECT_NE(message(dir.write("c.csv", "variable,quantile,lower_threshold,upper_threshold\nU0,0.9,-1,1\nU0,0.9,-1,2\n"),
                    spec()).find("differ"),
            std::string::npos);
  // U0 is scored on both tails: a lower threshold is needed.
  EXPECT_NE(message(dir.write("d.csv", "variable,quantile,upper_threshold\nU0,0.9,1\nT0,0.9,1\n"), spec())
                .find("lower_threshold at quantile 0.9 is empty"),
            std::string::npos);
  EXPECT_NE(message(dir.write("e.csv", "variable,quantile,lower_threshold,upper_threshold\nU0,0.9,-1,1\n"), spec())
                .find("no thresholds for T0 at quantile 0.9"),
            std::string::npos);
  EXPECT_THROW(read_threshold_file(dir.file("missing.csv")), InputError);
}

}  // namespace
}  // namespace neuralom
