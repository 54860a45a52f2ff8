// Verification scores, per lead day and variable, averaged over initial conditions, in physical
// (de-normalised) units:
//
//   w      = cos(lat) of each row, lat = −90 + 180·i/H degrees (the reference grid's labelling),
//            restricted to the ocean points of the channel;
//   RMSE   = √( mean over ICs of Σw(p−t)² / Σw );   normalised RMSE = RMSE / std of the channel;
//   ACC    = mean over ICs of Σw·p·t / √(Σw·p² · Σw·t²)   (p, t are anomalies already).
//
// Each field's MSE and ACC are computed in float64 on the compute device and kept per initial
// condition (IcMetrics); the table sums them over the ICs in IC order. The sum is then the same
// whatever the batch size, the order the ICs ran in or the number of processes that ran them
// (engine/ic_partition.h), and an interrupted run resumes to the same numbers.
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
  std::vector<double> mean_nrmse;          ///< [L], mean over the scored variables
  std::vector<double> mean_acc;            ///< [L]
  /// Variables without a single ocean point in the land mask: their scores are NaN (0/0) and the
  /// means leave them out (a regional grid or a deep level can be all land).
  std::vector<std::string> unscored;

  /// Row of `lead` in the tables, or -1.
  int64_t lead_row(int64_t lead) const;
  /// Column of a variable name, or -1.
  int64_t variable_column(const std::string& name) const;
};

/// What one initial condition contributes to the scores of one system: per lead day and channel
/// the sum of its fields' weighted MSE and ACC, and per lead the number of fields added (1 in a
/// rollout; 0 for lead 0, which is never scored).
struct IcMetrics {
  int64_t channels = 0;          ///< C
  std::vector<double> mse;       ///< [(max_lead + 1) * C], lead-major: Σ field_mse
  std::vector<double> acc;       ///< [(max_lead + 1) * C]: Σ field_acc
  std::vector<int64_t> fields;   ///< [max_lead + 1]
};

/// The table of one system from per-IC scores, summed in the order given (IC order, for numbers
/// that do not depend on batching or on the processes that ran the ICs). Leads without fields are
/// left out. Throws std::invalid_argument if the ICs' shapes differ from each other or from
/// `variables`/`channel_std`. `has_ocean[c]` says whether channel c has ocean points (empty: all
/// have); the means over variables take only those that have.
MetricsTable metrics_table(std::string system, std::vector<std::string> variables, std::vector<double> channel_std,
                           const std::vector<const IcMetrics*>& ics, const std::vector<bool>& has_ocean = {});

/// Per channel of a `[C, H, W]` ocean mask or weights tensor: whether it has a non-zero point.
std::vector<bool> channels_with_ocean(const at::Tensor& mask);

/// Computes per-field scores of the current batch of initial conditions on the compute device.
class MetricsAccumulator {
 public:
  /// `max_lead`: leads 0..max_lead may be added. `weights`: float64 `[C, H, W]` on the device.
  MetricsAccumulator(std::string system, std::vector<std::string> variables, std::vector<double> channel_std,
                     int64_t max_lead, const at::Tensor& weights);

  /// Adds the fields of one lead of the batch's B initial conditions: `p`, `t` physical-unit
  /// `[B, C, H, W]` on the device, row b of every call belonging to IC b of the batch.
  void add(int64_t lead, const at::Tensor& p, const at::Tensor& t);

  /// The batch's per-IC scores, on the host, in batch order; the next add() starts a new batch.
  std::vector<IcMetrics> take_batch();

  const std::string& system() const { return system_; }
  const std::vector<std::string>& variables() const { return variables_; }
  const std::vector<double>& channel_std() const { return channel_std_; }

 private:
  std::string system_;
  std::vector<std::string> variables_;
  std::vector<double> channel_std_;
  int64_t max_lead_;
  at::Tensor weights_;
  at::Tensor batch_mse_;  // [B, L + 1, C] float64, device
  at::Tensor batch_acc_;
  std::vector<std::vector<int64_t>> batch_fields_;  // [B][L + 1]
};

}  // namespace neuralom
