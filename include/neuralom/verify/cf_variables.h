// The model's output channels as CF variables. The reference names its 93 ocean channels S<m>,
// U<m>, V<m>, T<m> (salinity, eastward and northward velocity, potential temperature at a depth
// labelled in whole metres) and SSH; in the NetCDF outputs they become the CMIP/GLORYS variables
// so, uo, vo, thetao on (depth, latitude, longitude) and zos on (latitude, longitude), with the
// lead and depth coordinates every NetCDF output shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace neuralom {

/// One CF variable of the outputs.
struct CfVariable {
  std::string name;           ///< "thetao"
  std::string prefix;         ///< channel-name prefix: "T" (a depth label follows), "SSH"
  std::string standard_name;  ///< "sea_water_potential_temperature"
  std::string long_name;      ///< "sea water potential temperature"
  std::string units;          ///< "degrees_Celsius"
  bool has_depth = true;
  /// The units of a difference of two values (an anomaly, an RMSE): "K" for a temperature, whose
  /// degrees_Celsius are an offset scale in UDUNITS (0.2 degrees_Celsius would convert to 273.35 K);
  /// the value units otherwise.
  std::string difference_units;
};

class NetcdfFile;

/// The coordinate variables the NetCDF outputs share, each on the dimension of its name (defined
/// first by the caller): lead(lead) int32 days, standard name forecast_period; depth(depth) float64
/// metres, positive down, axis Z. Throws OutputError.
void define_lead_coordinate(NetcdfFile& file);
void define_depth_coordinate(NetcdfFile& file);

/// so, uo, vo, thetao, zos — in the reference's channel order.
const std::vector<CfVariable>& cf_ocean_variables();

/// What a channel name means: a variable of cf_ocean_variables() and, for 3-D ones, the depth label.
struct ChannelMeaning {
  std::size_t variable = 0;
  std::optional<int64_t> depth_label;  ///< whole metres ("T7" → 7); none for SSH
};

/// Parses "S0", "T643", "U5", "V92", "SSH". Nothing for any other name.
std::optional<ChannelMeaning> parse_channel_name(const std::string& name);

/// The depth in metres of every channel (NaN for 2-D ones): the distinct depth labels of `names`,
/// in ascending order, take the values of `depths_override` if it is not empty (one per label),
/// else depth_of_label(). Throws ConfigError for a name parse_channel_name() does not know, or an
/// override of the wrong length.
std::vector<double> channel_depths(const std::vector<std::string>& names, const std::vector<double>& depths_override);

/// A set of channels laid out as CF variables.
struct CfLayout {
  std::vector<double> depths;          ///< distinct depths of the 3-D channels, ascending (the depth axis)
  std::vector<std::size_t> variables;  ///< indices into cf_ocean_variables() present, in table order
  std::vector<std::size_t> channel_variable;  ///< per channel: index into cf_ocean_variables()
  std::vector<int64_t> channel_depth_index;   ///< per channel: index into depths, −1 for 2-D
};

/// Lays out `names` (with their depths from channel_depths()). Throws ConfigError for unknown
/// names and for two channels that are the same variable at the same depth.
CfLayout cf_layout(const std::vector<std::string>& names, const std::vector<double>& depths);

}  // namespace neuralom
