// The real coordinates of the model grid: latitude of each row, longitude of each column (degrees)
// and depth of each level (metres).
//
// Defaults follow the reference's labelling of its 0.5° grid (and the model's graph): row i at
// latitude −90 + 180·i/H (south first), column j at longitude −180 + 360·(j+1)/W. Data stored
// north-first or on 0–360° is described by overriding the first value and the step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace neuralom {

/// An evenly spaced axis; unset members take the grid's default.
struct AxisSpec {
  std::optional<double> start;  ///< value of index 0
  std::optional<double> step;   ///< increment per index (negative for north-first latitudes)
};

/// Latitudes of H rows, degrees north. Default start −90, step 180/H. Throws ConfigError if a
/// value falls outside [−90, 90].
std::vector<double> grid_latitudes(int64_t height, const AxisSpec& spec = {});

/// Longitudes of W columns, degrees east. Default start −180 + 360/W, step 360/W.
std::vector<double> grid_longitudes(int64_t width, const AxisSpec& spec = {});

/// The 33 standard depth levels of GLORYS12 (Mercator), metres, shallowest first
/// (0.494 … 643.567 m).
const std::vector<double>& glorys12_depths();

/// The depth in metres of a channel labelled with a whole number of metres (S0, T7, U643: the
/// reference's labels are depths truncated to whole metres): the GLORYS12 level whose whole-metre
/// part equals the label (7 → 7.930 m, not the nearer 6.441 m), or the nearest level if none does.
double depth_of_label(int64_t label_metres);

}  // namespace neuralom
