#include "neuralom/verify/cf_variables.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

#include "neuralom/core/errors.h"
#include "neuralom/data/grid_coordinates.h"
#include "neuralom/io/netcdf_file.h"

namespace neuralom {
namespace {

ChannelMeaning meaning_or_throw(const std::string& name) {
  const auto m = parse_channel_name(name);
  if (!m) {
    throw ConfigError("channel '" + name + "' has no CF variable: NetCDF outputs need the reference's channel names "
                      "S<depth>, U<depth>, V<depth>, T<depth> and SSH (see --out-variables)");
  }
  return *m;
}

}  // namespace

void define_lead_coordinate(NetcdfFile& f) {
  f.define_variable("lead", NetcdfType::kInt32, {"lead"});
  f.put_attribute("lead", "standard_name", "forecast_period");
  f.put_attribute("lead", "long_name", "lead time");
  f.put_attribute("lead", "units", "days");
}

void define_depth_coordinate(NetcdfFile& f) {
  f.define_variable("depth", NetcdfType::kFloat64, {"depth"});
  f.put_attribute("depth", "standard_name", "depth");
  f.put_attribute("depth", "long_name", "depth below the sea surface");
  f.put_attribute("depth", "units", "m");
  f.put_attribute("depth", "positive", "down");
  f.put_attribute("depth", "axis", "Z");
}

const std::vector<CfVariable>& cf_ocean_variables() {
  static const std::vector<CfVariable> variables{
      {"so", "S", "sea_water_salinity", "sea water salinity", "1e-3", true, "1e-3"},
      {"uo", "U", "eastward_sea_water_velocity", "eastward sea water velocity", "m s-1", true, "m s-1"},
      {"vo", "V", "northward_sea_water_velocity", "northward sea water velocity", "m s-1", true, "m s-1"},
      {"thetao", "T", "sea_water_potential_temperature", "sea water potential temperature", "degrees_Celsius", true, "K"},
      {"zos", "SSH", "sea_surface_height_above_geoid", "sea surface height above geoid", "m", false, "m"},
  };
  return variables;
}

std::optional<ChannelMeaning> parse_channel_name(const std::string& name) {
  const auto& table = cf_ocean_variables();
  for (std::size_t v = 0; v < table.size(); ++v) {
    const CfVariable& var = table[v];
    if (!var.has_depth) {
      if (name == var.prefix) return ChannelMeaning{v, std::nullopt};
      continue;
    }
    if (name.size() <= var.prefix.size() || name.compare(0, var.prefix.size(), var.prefix) != 0) continue;
    const std::string digits = name.substr(var.prefix.size());
    if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      continue;
    }
    return ChannelMeaning{v, std::stoll(digits)};
  }
  return std::nullopt;
}

std::vector<double> channel_depths(const std::vector<std::string>& names, const std::vector<double>& depths_override) {
  std::set<int64_t> labels;
  std::vector<ChannelMeaning> meanings;
  for (const auto& name : names) {
    meanings.push_back(meaning_or_throw(name));
    if (meanings.back().depth_label) labels.insert(*meanings.back().depth_label);
  }
  if (!depths_override.empty() && depths_override.size() != labels.size()) {
    throw ConfigError("depths: " + std::to_string(depths_override.size()) + " values given for the " +
                      std::to_string(labels.size()) + " depth levels of the channels (one per level, shallowest first)");
  }
  const std::vector<int64_t> sorted(labels.begin(), labels.end());
  std::vector<double> out;
  for (const auto& m : meanings) {
    if (!m.depth_label) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const auto k = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), *m.depth_label) - sorted.begin());
    out.push_back(depths_override.empty() ? depth_of_label(*m.depth_label) : depths_override[k]);
  }
  return out;
}

CfLayout cf_layout(const std::vector<std::string>& names, const std::vector<double>& depths) {
  CfLayout layout;
  std::set<double> distinct;
  for (const double d : depths) {
    if (!std::isnan(d)) distinct.insert(d);
  }
  layout.depths.assign(distinct.begin(), distinct.end());
  std::set<std::size_t> present;
  std::set<std::pair<std::size_t, int64_t>> seen;
  for (std::size_t c = 0; c < names.size(); ++c) {
    const ChannelMeaning m = meaning_or_throw(names[c]);
    int64_t depth_index = -1;
    if (m.depth_label) {
      depth_index = std::lower_bound(layout.depths.begin(), layout.depths.end(), depths[c]) - layout.depths.begin();
    }
    if (!seen.insert({m.variable, depth_index}).second) {
      throw ConfigError("channel '" + names[c] + "' is the same variable at the same depth as an earlier channel");
    }
    present.insert(m.variable);
    layout.channel_variable.push_back(m.variable);
    layout.channel_depth_index.push_back(depth_index);
  }
  layout.variables.assign(present.begin(), present.end());
  return layout;
}

}  // namespace neuralom
