// Channel names as CF variables: parsing, depths, layouts.
#include "neuralom/verify/cf_variables.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "neuralom/cli/settings.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

TEST(CfVariablesTest, ReferenceChannelNames) {
  const auto t = parse_channel_name("T643");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(cf_ocean_variables()[t->variable].name, "thetao");
  EXPECT_EQ(*t->depth_label, 643);
  const auto ssh = parse_channel_name("SSH");
  ASSERT_TRUE(ssh.has_value());
  EXPECT_EQ(cf_ocean_variables()[ssh->variable].name, "zos");
  EXPECT_FALSE(ssh->depth_label.has_value());
  for (const char* bad : {"X0", "T", "T1a", "SS", "SSH0", ""}) EXPECT_FALSE(parse_channel_name(bad).has_value()) << bad;
}

TEST(CfVariablesTest, LayoutOfTheReferenceChannels) {
  const auto names = reference_out_variables();
  const auto depths = channel_depths(names, {});
  ASSERT_EQ(depths.size(), 93U);
  EXPECT_DOUBLE_EQ(depths[0], 0.494);
  EXPECT_DOUBLE_EQ(depths[69 + 3], 7.930);
  EXPECT_TRUE(std::isnan(depths[92]));
  const CfLayout layout = cf_layout(names, depths);
  EXPECT_EQ(layout.depths.size(), 23U);
  EXPECT_EQ(layout.variables, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(layout.channel_depth_index[69 + 22], 22);
  EXPECT_EQ(layout.channel_depth_index[92], -1);
}

TEST(CfVariablesTest, DepthOverrideAndErrors) {
  const auto depths = channel_depths({"S0", "T5", "T0", "SSH"}, {1.0, 6.0});
  EXPECT_EQ(depths[0], 1.0);
  EXPECT_EQ(depths[1], 6.0);
  EXPECT_EQ(depths[2], 1.0);
  EXPECT_THROW(channel_depths({"S0", "T5"}, {1.0}), ConfigError);
  EXPECT_THROW(channel_depths({"S0", "Q5"}, {}), ConfigError);
  EXPECT_THROW(cf_layout({"T0", "T0"}, {0.494, 0.494}), ConfigError);
}

}  // namespace
}  // namespace neuralom
