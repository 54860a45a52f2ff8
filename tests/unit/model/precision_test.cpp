#include "neuralom/model/precision.h"

#include <gtest/gtest.h>

#include <ATen/Context.h>

#include "neuralom/core/errors.h"
#include "neuralom/engine/run_settings_json.h"

namespace neuralom {
namespace {

TEST(PrecisionTest, ParsesTheThreeNamesAndPrintsThemBack) {
  for (const char* name : {"fp32", "tf32", "bf16"}) {
    EXPECT_STREQ(precision_name(parse_precision(name, "--precision")), name);
  }
  EXPECT_EQ(parse_precision("bf16", "x"), Precision::kBf16);
}

TEST(PrecisionTest, RefusesOtherNamesNamingTheOrigin) {
  try {
    parse_precision("fp16", "run.yaml: precision");
    FAIL() << "fp16 accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "run.yaml: precision: unknown precision 'fp16' (expected fp32, tf32 or bf16)");
  }
  EXPECT_THROW(parse_precision("FP32", "--precision"), ConfigError);
  EXPECT_THROW(parse_precision("", "--precision"), ConfigError);
}

TEST(PrecisionTest, Tf32IsRefusedOnTheCpuAndTheOthersAreNot) {
  const c10::Device cpu(c10::kCPU);
  EXPECT_THROW(check_precision_device(Precision::kTf32, cpu), ConfigError);
  EXPECT_NO_THROW(check_precision_device(Precision::kFp32, cpu));
  EXPECT_NO_THROW(check_precision_device(Precision::kBf16, cpu));
  EXPECT_NO_THROW(check_precision_device(Precision::kTf32, c10::Device(c10::kCUDA, 0)));
}

TEST(PrecisionTest, OnlyTf32AllowsTf32Products) {
  apply_precision(Precision::kTf32);
  EXPECT_TRUE(at::globalContext().allowTF32CuBLAS());
  apply_precision(Precision::kFp32);
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
  apply_precision(Precision::kBf16);
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
}

TEST(PrecisionTest, Bf16IsPartOfTheResultSettingsAndFp32IsNot) {
  RunSettings s;
  s.stages = {"a.pt"};
  // fp32 leaves the settings (and the fingerprints of runs journaled before --precision) as they were.
  EXPECT_FALSE(result_settings_json(s).contains("precision"));
  s.precision = Precision::kBf16;
  const auto j = result_settings_json(s);
  ASSERT_TRUE(j.contains("precision"));
  EXPECT_EQ(j.at("precision"), "bf16");
  EXPECT_EQ(settings_from_json(j, "test").precision, Precision::kBf16);
  // CUDA graphs compute what eager does: not a result setting.
  s.cuda_graphs = true;
  EXPECT_EQ(result_settings_json(s), j);
}

}  // namespace
}  // namespace neuralom
