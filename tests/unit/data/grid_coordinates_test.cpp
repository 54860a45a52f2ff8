// Grid coordinates and the depth levels of the channel labels.
#include "neuralom/data/grid_coordinates.h"

#include <vector>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

TEST(GridCoordinatesTest, DefaultsAreTheReferenceLabelling) {
  const auto lat = grid_latitudes(360);
  EXPECT_DOUBLE_EQ(lat.front(), -90.0);
  EXPECT_DOUBLE_EQ(lat[1], -89.5);
  EXPECT_DOUBLE_EQ(lat.back(), 89.5);
  const auto lon = grid_longitudes(720);
  EXPECT_DOUBLE_EQ(lon.front(), -179.5);
  EXPECT_DOUBLE_EQ(lon.back(), 180.0);
}

TEST(GridCoordinatesTest, OverridesForNorthFirstAndZeroTo360) {
  const auto lat = grid_latitudes(4, AxisSpec{90.0, -45.0});
  EXPECT_EQ(lat, (std::vector<double>{90.0, 45.0, 0.0, -45.0}));
  const auto lon = grid_longitudes(4, AxisSpec{0.0, std::nullopt});
  EXPECT_EQ(lon, (std::vector<double>{0.0, 90.0, 180.0, 270.0}));
  EXPECT_THROW(grid_latitudes(4, AxisSpec{0.0, 45.0}), ConfigError);  // 135° north
}

TEST(GridCoordinatesTest, DepthLabelsAreTruncatedGlorysLevels) {
  // The reference's 23 labels pick every other GLORYS12 level near the surface.
  const std::vector<int64_t> labels{0, 2, 5, 7, 11, 15, 21, 29, 40, 55, 77, 92, 109, 130, 155, 186, 222, 266, 318,
                                    380, 453, 541, 643};
  const std::vector<double> want{0.494,   2.646,   5.078,   7.930,   11.405,  15.810,  21.599,  29.445,
                                 40.344,  55.764,  77.854,  92.326,  109.729, 130.666, 155.851, 186.126,
                                 222.475, 266.040, 318.127, 380.213, 453.938, 541.089, 643.567};
  for (std::size_t i = 0; i < labels.size(); ++i) EXPECT_DOUBLE_EQ(depth_of_label(labels[i]), want[i]) << labels[i];
  EXPECT_DOUBLE_EQ(depth_of_label(1000), 643.567);  // no level with that whole part: the nearest
  EXPECT_EQ(glorys12_depths().size(), 33U);
}

}  // namespace
}  // namespace neuralom
