// Normalisation as the reference does it, checked on hand-computed values.
#include "neuralom/data/normaliser.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace neuralom {
namespace {

NormStats two_channels() {
  NormStats s;
  s.mean = {0.25, -1.0};
  s.std = {0.5, 4.0};
  return s;
}

TEST(Normaliser, SubtractsClimatologyThenStandardises) {
  // [2 channels, 1 row, 2 columns]
  const at::Tensor x = at::tensor(std::vector<float>{1.5F, 3.0F, 7.0F, -1.0F}).view({2, 1, 2});
  const at::Tensor c = at::tensor(std::vector<float>{0.5F, 1.0F, -2.0F, 0.0F}).view({2, 1, 2});
  const at::Tensor z = normalise_day(x, c, two_channels());
  ASSERT_EQ(z.scalar_type(), at::kFloat);
  // ((1.5 − 0.5) − 0.25) / 0.5 = 1.5; ((3 − 1) − 0.25) / 0.5 = 3.5
  EXPECT_FLOAT_EQ(z[0][0][0].item<float>(), 1.5F);
  EXPECT_FLOAT_EQ(z[0][0][1].item<float>(), 3.5F);
  // ((7 + 2) + 1) / 4 = 2.5; ((−1 − 0) + 1) / 4 = 0
  EXPECT_FLOAT_EQ(z[1][0][0].item<float>(), 2.5F);
  EXPECT_FLOAT_EQ(z[1][0][1].item<float>(), 0.0F);
}

TEST(Normaliser, LandNaNBecomesZeroAndInfinityStaysInfinite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const at::Tensor x = at::tensor(std::vector<float>{nan, inf, -inf, 0.25F}).view({2, 1, 2});
  const at::Tensor z = normalise_day(x, at::Tensor(), two_channels());
  EXPECT_EQ(z[0][0][0].item<float>(), 0.0F);
  // NumPy's nan_to_num maps ±inf to ±1.797e308, which the float32 cast turns back into ±inf.
  EXPECT_EQ(z[0][0][1].item<float>(), inf);
  EXPECT_EQ(z[1][0][0].item<float>(), -inf);
  EXPECT_FLOAT_EQ(z[1][0][1].item<float>(), (0.25F + 1.0F) / 4.0F);
}

TEST(Normaliser, Float32DifferenceIsRoundedLikeNumPy) {
  // x − c in float32 (both float32, as NumPy) loses the small difference; in float64 it would not.
  NormStats s;
  s.mean = {0.0};
  s.std = {1.0};
  const at::Tensor x = at::tensor(std::vector<float>{16777217.0F}).view({1, 1, 1});  // rounds to 2^24
  const at::Tensor c = at::tensor(std::vector<float>{16777216.0F}).view({1, 1, 1});
  EXPECT_EQ(normalise_day(x, c, s).item<float>(), 0.0F);
  // A float64 climatology promotes the difference to float64 (NumPy's rule).
  const at::Tensor x64 = at::tensor(std::vector<double>{16777217.0}).view({1, 1, 1});
  const at::Tensor c64 = at::tensor(std::vector<double>{16777216.0}).view({1, 1, 1});
  EXPECT_EQ(normalise_day(x64, c64, s).item<float>(), 1.0F);
}

TEST(Normaliser, Float16DifferencePromotesLikeNumPy) {
  NormStats s;
  s.mean = {0.0};
  s.std = {1.0};
  const auto one = [](double v, at::ScalarType t) { return at::full({1, 1, 1}, v, at::TensorOptions().dtype(t)); };
  // float16 − float16 stays float16: 2050 − 0.5 = 2049.5 rounds to 2050 (float16 spacing is 2
  // between 2048 and 4096); 2052 − 1 = 2051 is a tie and goes to the even 2052, as in NumPy.
  EXPECT_EQ(normalise_day(one(2050, at::kHalf), one(0.5, at::kHalf), s).item<float>(), 2050.0F);
  EXPECT_EQ(normalise_day(one(2052, at::kHalf), one(1, at::kHalf), s).item<float>(), 2052.0F);
  // With a float32 or float64 climatology (or data) the difference is exact.
  EXPECT_EQ(normalise_day(one(2050, at::kHalf), one(0.5, at::kFloat), s).item<float>(), 2049.5F);
  EXPECT_EQ(normalise_day(one(2050, at::kHalf), one(0.5, at::kDouble), s).item<float>(), 2049.5F);
  EXPECT_EQ(normalise_day(one(2050, at::kFloat), one(0.5, at::kHalf), s).item<float>(), 2049.5F);
  EXPECT_EQ(normalise_day(one(2050, at::kDouble), one(0.5, at::kHalf), s).item<float>(), 2049.5F);
  // No climatology: the float16 value itself; NaN (land) is 0 as for the other types.
  s.mean = {0.25};
  s.std = {0.5};
  EXPECT_EQ(normalise_day(one(0.333251953125, at::kHalf), at::Tensor(), s).item<float>(),
            static_cast<float>((0.333251953125 - 0.25) / 0.5));
  EXPECT_EQ(normalise_day(one(std::nan(""), at::kHalf), at::Tensor(), s).item<float>(), 0.0F);
  EXPECT_THROW(normalise_day(one(1, at::kBFloat16), at::Tensor(), s), std::invalid_argument);
}

TEST(Normaliser, DenormaliseInFloat64) {
  const at::Tensor z = at::tensor(std::vector<float>{1.5F, 0.0F, 2.5F, -1.0F}).view({1, 2, 1, 2});
  const at::Tensor mean = at::tensor(std::vector<double>{0.25, -1.0});
  const at::Tensor std = at::tensor(std::vector<double>{0.5, 4.0});
  const at::Tensor x = denormalise(z, mean, std);
  ASSERT_EQ(x.scalar_type(), at::kDouble);
  EXPECT_DOUBLE_EQ(x[0][0][0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(x[0][0][0][1].item<double>(), 0.25);
  EXPECT_DOUBLE_EQ(x[0][1][0][0].item<double>(), 9.0);
  EXPECT_DOUBLE_EQ(x[0][1][0][1].item<double>(), -5.0);
}

TEST(Normaliser, RejectsMismatchedShapes) {
  const at::Tensor x = at::zeros({3, 1, 2});
  EXPECT_THROW(normalise_day(x, at::Tensor(), two_channels()), std::invalid_argument);
  EXPECT_THROW(normalise_day(at::zeros({2, 1, 2}), at::zeros({2, 2, 2}), two_channels()), std::invalid_argument);
}

}  // namespace
}  // namespace neuralom
