// TwoPassQuantiles: NumPy's linear quantile of a weighted multiset, exactly, in two passes.
#include "neuralom/verify/quantile.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace neuralom {
namespace {

/// Runs both passes over `values` (each `weight` times) and returns the quantiles.
std::vector<double> quantiles(const std::vector<float>& values, const std::vector<double>& q, int64_t weight = 1,
                              const std::vector<char>& include = {}) {
  TwoPassQuantiles t(q);
  std::unique_ptr<bool[]> mask;
  if (!include.empty()) {
    mask = std::make_unique<bool[]>(include.size());
    for (std::size_t i = 0; i < include.size(); ++i) mask[i] = include[i] != 0;
  }
  t.count(values.data(), mask.get(), values.size(), weight);
  t.start_second_pass();
  t.collect(values.data(), mask.get(), values.size(), weight);
  return t.result();
}

TEST(TwoPassQuantilesTest, HandComputedValues) {
  // numpy.quantile([1, 2, 3, 4, 5], [0, 0.5, 0.9, 1]) = [1, 3, 4.6, 5]
  const auto r = quantiles({5, 3, 1, 4, 2}, {0.0, 0.5, 0.9, 1.0});
  EXPECT_DOUBLE_EQ(r[0], 1.0);
  EXPECT_DOUBLE_EQ(r[1], 3.0);
  EXPECT_DOUBLE_EQ(r[2], 4.6);
  EXPECT_DOUBLE_EQ(r[3], 5.0);
}

TEST(TwoPassQuantilesTest, NegativeValuesAndTheLowerTail) {
  // numpy.quantile([-2.5, -1, 0, 0.5], 0.25) = -2.5 + 1.5 * 0.75 = -1.375; 1 - 0.9 = 0.09999999999999998
  const auto r = quantiles({0.5F, -1.0F, -2.5F, 0.0F}, {0.25, 1.0 - 0.9});
  EXPECT_DOUBLE_EQ(r[0], -1.375);
  EXPECT_DOUBLE_EQ(r[1], -2.5 + 1.5 * (3 * (1.0 - 0.9)));
}

TEST(TwoPassQuantilesTest, WeightsRepeatValues) {
  // {1, 1, 1, 10}: q = 0.5 → 1; q = 0.9 → index 2.7 → 10 − 9 · 0.3 = 7.3
  TwoPassQuantiles t({0.5, 0.9});
  const float one = 1.0F;
  const float ten = 10.0F;
  t.count(&one, nullptr, 1, 3);
  t.count(&ten, nullptr, 1, 1);
  t.start_second_pass();
  t.collect(&one, nullptr, 1, 3);
  t.collect(&ten, nullptr, 1, 1);
  EXPECT_EQ(t.total(), 4);
  const auto r = t.result();
  EXPECT_DOUBLE_EQ(r[0], 1.0);
  EXPECT_DOUBLE_EQ(r[1], 10.0 - 9.0 * (1.0 - 2.7 + 2.0));
}

TEST(TwoPassQuantilesTest, MaskAndNaNAreSkipped) {
  const auto r = quantiles({100.0F, 1.0F, std::nanf(""), 3.0F}, {0.5}, 1, {0, 1, 1, 1});
  EXPECT_DOUBLE_EQ(r[0], 2.0);
}

TEST(TwoPassQuantilesTest, NoValuesGiveNaN) {
  EXPECT_TRUE(std::isnan(quantiles({}, {0.9})[0]));
  EXPECT_TRUE(std::isnan(quantiles({1.0F}, {0.9}, 1, {0})[0]));
}

TEST(TwoPassQuantilesTest, OneValue) { EXPECT_DOUBLE_EQ(quantiles({-7.0F}, {0.01, 0.99})[1], -7.0); }

TEST(TwoPassQuantilesTest, AgreesWithSortingOnManyCloseValues) {
  // 200 000 values in a narrow range: many share a coarse bin, and ties abound.
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.2F, 0.05F);
  std::vector<float> values(200000);
  for (auto& v : values) v = std::round(normal(rng) * 1e4F) / 1e4F;
  const std::vector<double> q{0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0 - 0.95};
  const auto r = quantiles(values, q);
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t k = 0; k < q.size(); ++k) {
    const double index = static_cast<double>(sorted.size() - 1) * q[k];
    const auto lo = static_cast<std::size_t>(std::floor(index));
    const double g = index - static_cast<double>(lo);
    const double a = sorted[lo];
    const double b = sorted[std::min(lo + 1, sorted.size() - 1)];
    const double want = g >= 0.5 ? b - (b - a) * (1.0 - g) : a + (b - a) * g;
    EXPECT_DOUBLE_EQ(r[k], want) << "q = " << q[k];
  }
}

TEST(TwoPassQuantilesTest, RejectsProbabilitiesOutsideZeroOne) {
  EXPECT_THROW(TwoPassQuantiles({1.5}), std::invalid_argument);
  EXPECT_THROW(TwoPassQuantiles({-0.1}), std::invalid_argument);
}

}  // namespace
}  // namespace neuralom
