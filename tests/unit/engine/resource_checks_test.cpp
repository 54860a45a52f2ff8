// The disk and memory estimates of a run (engine/detail/resource_checks), against hand-computed
// sizes, and the refusals they lead to.
#include "engine/detail/resource_checks.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"
#include "temp_dir.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

/// The golden case's plan: 2 ICs, prediction length 4, 93 of 97 channels on 32 x 64.
RunPlan golden_plan() {
  RunPlan plan;
  RunSettings& s = plan.settings;
  s.ics = {0, 1};
  s.prediction_length = 4;
  s.in_channels = iota(97);
  s.out_channels = iota(93);
  s.out_variables = std::vector<std::string>(93, "v");
  s.save_fields = true;
  s.prefetch = 2;
  s.batch = 1;
  s.output_dir = std::string("/");  // not = "/": GCC 12 -std=c++20 warns falsely (-Wrestrict, PR 105329)
  plan.save_leads = iota(4);
  plan.save_channels = iota(93);
  plan.height = 32;
  plan.width = 64;
  return plan;
}

TEST(ResourceChecksTest, FormatsBytes) {
  EXPECT_EQ(detail::format_bytes(0), "0 B");
  EXPECT_EQ(detail::format_bytes(1023), "1023 B");
  EXPECT_EQ(detail::format_bytes(1024), "1 KiB");
  EXPECT_EQ(detail::format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(detail::format_bytes(12189696), "11.6 MiB");
  EXPECT_EQ(detail::format_bytes(2.61 * 1024.0 * 1024 * 1024 * 1024), "2.61 TiB");
}

TEST(ResourceChecksTest, OutputEstimateIsTheFieldsProductPlusMetrics) {
  const detail::ByteEstimate e = detail::estimate_output_bytes(golden_plan());
  // Fields: 2 datasets x 2 ICs x 4 leads x 93 channels x 32 x 64 x 4 bytes = 12189696, plus
  // 128 bytes for each of the 16 chunks, twice (the journal's parts, then the final file), and
  // 1 MiB for each file (2 parts of one IC, the final file); metrics: 1 system x 4 leads x
  // (93 variables + ALL) rows x 320 bytes = 120320, run.json 65536 + 32 per IC.
  const double one_copy = 12189696.0 + 16 * 128.0;
  const double text = 120320.0 + 65536.0 + 64.0;
  EXPECT_DOUBLE_EQ(e.bytes, 2 * one_copy + 3 * 1048576.0 + text);
  EXPECT_NE(e.detail.find("2 x 2 ICs x 4 leads x 93 channels x 32 x 64 x 4 bytes = 11.6 MiB, twice (the journal's "
                          "per-batch parts, then the final file"),
            std::string::npos)
      << e.detail;
  RunPlan metrics_only = golden_plan();
  metrics_only.settings.save_fields = false;
  metrics_only.settings.baselines = true;  // three systems
  EXPECT_DOUBLE_EQ(detail::estimate_output_bytes(metrics_only).bytes, 3 * 120320.0 + 65536.0 + 64.0);
}

TEST(ResourceChecksTest, AShardNeedsItsOwnPartsOnly) {
  RunPlan plan = golden_plan();
  plan.settings.ics = {0, 1, 2};
  plan.settings.shard = ShardSpec{1, 2};  // batches 0-1 and 2: this shard has IC 2
  const detail::ByteEstimate e = detail::estimate_output_bytes(plan);
  const double one_ic = 12189696.0 / 2 + 8 * 128.0;
  EXPECT_DOUBLE_EQ(e.bytes, one_ic + 1048576.0 + 120320.0 + 65536.0 + 3 * 32.0);
  EXPECT_NE(e.detail.find("2 x 1 ICs x 4 leads x 93 channels x 32 x 64 x 4 bytes = 5.81 MiB (shard 1/2's parts)"),
            std::string::npos)
      << e.detail;
}

TEST(ResourceChecksTest, AResumedRunCountsThePartsItHasAlready) {
  const testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "journal" / "parts");
  dir.write("journal/parts/batch-000000.h5", std::string(6000000, 'x'));
  RunPlan plan = golden_plan();
  plan.settings.output_dir = dir.path().string();
  plan.settings.resume = true;
  const detail::ByteEstimate e = detail::estimate_output_bytes(plan);
  const double one_copy = 12189696.0 + 16 * 128.0;
  EXPECT_DOUBLE_EQ(e.bytes, 2 * one_copy + 3 * 1048576.0 - 6000000.0 + 120320.0 + 65536.0 + 64.0);
  EXPECT_NE(e.detail.find("less the 5.72 MiB of parts already written"), std::string::npos) << e.detail;
  // Never less than the final file itself.
  dir.write("journal/parts/batch-000001.h5", std::string(30000000, 'x'));
  EXPECT_DOUBLE_EQ(detail::estimate_output_bytes(plan).bytes, one_copy + 120320.0 + 65536.0 + 64.0);
}

TEST(ResourceChecksTest, AMergeWritesTheFinalFileOnly) {
  // neuralom merge: the parts are in the shard directories; the final file is the one copy written.
  RunPlan plan = golden_plan();
  plan.settings.merging = true;
  const detail::ByteEstimate e = detail::estimate_output_bytes(plan);
  const double one_copy = 12189696.0 + 16 * 128.0;
  EXPECT_DOUBLE_EQ(e.bytes, one_copy + 1048576.0 + 120320.0 + 65536.0 + 64.0);
  EXPECT_NE(e.detail.find("= 11.6 MiB (the final file, assembled from the shards' parts)"), std::string::npos)
      << e.detail;
}

TEST(ResourceChecksTest, MemoryEstimateCountsTheDayCache) {
  // Day cache 1 x (2 + 3) days x 97 x 32 x 64 x 4; raw slices 2 x 97 x 2048 x 8; the step's
  // tensors 1 x (97 + 2 x 93) x 2048 x 4; the fields buffer 2 x 93 x 2048 x 4.
  const double plane = 32.0 * 64.0;
  EXPECT_DOUBLE_EQ(detail::estimate_memory_bytes(golden_plan()).bytes,
                   5 * 97 * plane * 4 + 2 * 97 * plane * 8 + (97 + 2 * 93) * plane * 4 + 2 * 93 * plane * 4);
}

TEST(ResourceChecksTest, RefusesOutputsThatCannotFit) {
  RunPlan plan = golden_plan();
  // 1000 ICs x 1000 leads of a 1000 x 1000 field: 8 TB, more than any test machine's free space.
  plan.settings.ics = iota(1000);
  plan.save_leads = iota(1000);
  plan.save_channels = {0};
  plan.settings.in_channels = {0};
  plan.settings.out_channels = {0};
  plan.height = 1000;
  plan.width = 1000;
  const std::string message = testing::error_message<OutputError>([&] { detail::check_resources(plan); });
  EXPECT_NE(message.find("the outputs need about 14.6 TiB"), std::string::npos) << message;
  EXPECT_NE(message.find("2 x 1000 ICs x 1000 leads x 1 channels x 1000 x 1000 x 4 bytes"), std::string::npos)
      << message;
  EXPECT_NE(message.find("/ has"), std::string::npos) << message;
  // Compressed, the estimate is only an upper bound: a warning, not a refusal.
  plan.settings.compression = 4;
  EXPECT_NO_THROW(detail::check_resources(plan));
  EXPECT_GT(plan.output_bytes, 8e12);
  EXPECT_GT(plan.output_free_bytes, 0);
}

TEST(ResourceChecksTest, RefusesDataThatCannotFitInMemory) {
  RunPlan plan = golden_plan();
  plan.height = 100000;  // a declared 100000 x 100000 grid of 97 channels: ~19 TB per cached day
  plan.width = 100000;
  const std::string message = testing::error_message<InputError>([&] { detail::check_resources(plan); });
  EXPECT_NE(message.find("of memory for its data"), std::string::npos) << message;
  EXPECT_NE(message.find("1 x (2 + 3) days of 97 x 100000 x 100000 float32"), std::string::npos) << message;
}

}  // namespace
}  // namespace neuralom
