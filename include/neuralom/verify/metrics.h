// Verification scores, per lead day and variable, averaged over initial conditions, in physical
// (de-normalised) units:
//
//   w      = cos(lat) of each row, lat = −90 + 180·i/H degrees (the reference grid's labelling),
//            restricted to the ocean points of the channel;
//   RMSE   = √( mean over ICs of Σw(p−t)² / Σw );   normalised RMSE = RMSE / std of the channel;
//   ACC    = mean over ICs of Σw·p·t / √(Σw·p² · Σw·t²)   (p, t are anomalies already).
//
// Sums are accumulated in float64 on the compute device; only [lead, channel] tables reach the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace neuralom {

/// cos(lat) per row for an H-row grid, lat = −90 + 180·i/H degrees. Row 0 gets cos(−90°) ≈ 6e-17.
std::vector<double> latitude_weights(int64_t height);

/// Per-field weighted sums, each float64 `[B, C]`: Σw, Σw(p−t)², Σw·p·t, Σw·p², Σw·t².
struct WeightedSums {
  at::Tensor weight;
  at::Tensor sq_error;
  at::Tensor pt;
  at::Tensor pp;
  at::Tensor tt;
};

/// `p`, `t`: `[B, C, H, W]` (any float dtype, same device); `weights`: float64 `[C, H, W]` =
/// cos(lat) × ocean mask. Computed in float64.
WeightedSums weighted_sums(const at::Tensor& p, const at::Tensor& t, const at::Tensor& weights);

/// Per-field scores from the sums, float64 `[B, C]`: mse = Σw(p−t)²/Σw, acc = Σwpt/√(Σwp²·Σwt²)
/// (NaN where a denominator is 0).
at::Tensor field_mse(const WeightedSums& s);
at::Tensor field_acc(const WeightedSums& s);

/// Scores of one forecast system (the model or a baseline) on the host.
struct MetricsTable {
  std::string system;                  ///< "model", "persistence", "climatology"
  std::vector<std::string> variables;  ///< channel names, [C]
  std::vector<double> channel_std;     ///< [C], for the normalised RMSE
  std::vector<int64_t> leads;          ///< lead days with data, ascending
  std::vector<int64_t> ic_count;       ///< ICs averaged per lead, [L]
  std::vector<std::vector<double>> rmse;   ///< [L][C]
  std::vector<std::vector<double>> nrmse;  ///< [L][C]
  std::vector<std::vector<double>> acc;    ///< [L][C]
  std::vector<double> mean_nrmse;          ///< [L], mean over the C variables
  std::vector<double> mean_acc;            ///< [L]

  /// Row of `lead` in the tables, or -1.
  int64_t lead_row(int64_t lead) const;
  /// Column of a variable name, or -1.
  int64_t variable_column(const std::string& name) const;
};

/// Accumulates mean-over-IC scores per (lead, channel) on the compute device.
class MetricsAccumulator {
 public:
  /// `max_lead`: leads 0..max_lead may be added. `weights`: float64 `[C, H, W]` on the device.
  MetricsAccumulator(std::string system, std::vector<std::string> variables, std::vector<double> channel_std,
                     int64_t max_lead, const at::Tensor& weights);

  /// Adds B fields of one lead: `p`, `t` physical-unit `[B, C, H, W]` on the device.
  void add(int64_t lead, const at::Tensor& p, const at::Tensor& t);

  /// The table over the leads that received data.
  MetricsTable result() const;

 private:
  std::string system_;
  std::vector<std::string> variables_;
  std::vector<double> channel_std_;
  at::Tensor weights_;
  at::Tensor sum_mse_;  // [L, C] float64
  at::Tensor sum_acc_;  // [L, C]
  std::vector<int64_t> count_;
};

}  // namespace neuralom
