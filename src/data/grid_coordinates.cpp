#include "neuralom/data/grid_coordinates.h"

#include <cmath>
#include <sstream>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

std::vector<double> axis(int64_t n, double start, double step) {
  std::vector<double> values(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = start + step * static_cast<double>(i);
  return values;
}

}  // namespace

std::vector<double> grid_latitudes(int64_t height, const AxisSpec& spec) {
  const double step = spec.step.value_or(180.0 / static_cast<double>(height));
  const double start = spec.start.value_or(-90.0);
  std::vector<double> lat = axis(height, start, step);
  for (const double v : lat) {
    // A little slack for rounding in start + step * i.
    if (v < -90.0 - 1e-9 || v > 90.0 + 1e-9) {
      std::ostringstream msg;
      msg << "latitude axis start " << start << ", step " << step << " gives " << v << " degrees for one of the "
          << height << " rows, outside [-90, 90] (see latitude_start / latitude_step)";
      throw ConfigError(msg.str());
    }
  }
  return lat;
}

std::vector<double> grid_longitudes(int64_t width, const AxisSpec& spec) {
  const double step = spec.step.value_or(360.0 / static_cast<double>(width));
  const double start = spec.start.value_or(-180.0 + 360.0 / static_cast<double>(width));
  return axis(width, start, step);
}

const std::vector<double>& glorys12_depths() {
  static const std::vector<double> depths{
      0.494,   1.541,   2.646,   3.819,   5.078,   6.441,   7.930,   9.573,   11.405,  13.467,  15.810,
      18.496,  21.599,  25.211,  29.445,  34.434,  40.344,  47.374,  55.764,  65.807,  77.854,  92.326,
      109.729, 130.666, 155.851, 186.126, 222.475, 266.040, 318.127, 380.213, 453.938, 541.089, 643.567};
  return depths;
}

double depth_of_label(int64_t label_metres) {
  const auto& levels = glorys12_depths();
  double nearest = levels.front();
  for (const double level : levels) {
    if (static_cast<int64_t>(std::floor(level)) == label_metres) return level;
    if (std::abs(level - static_cast<double>(label_metres)) < std::abs(nearest - static_cast<double>(label_metres))) {
      nearest = level;
    }
  }
  return nearest;
}

}  // namespace neuralom
