// Extreme-event scores: how well a forecast system predicts where an anomaly exceeds a rare
// threshold (the NeuralOM paper reports CSI and SEDI of surface currents).
//
// For each scored variable (an output channel) and quantile q, the event at an ocean grid point is
//   upper tail:  anomaly > upper threshold
//   both tails:  anomaly > upper threshold  or  anomaly < lower threshold
// where the thresholds are the q and 1−q quantiles of the truth (engine/extreme_thresholds.h) or
// given by the user. Observed events use the truth anomaly and forecast events the system's, both
// rounded to float32 as in the fields files. The contingency counts (grid points, not area
// weighted, over the channel's ocean points) are summed over initial conditions per lead day, and
// scored with verify/contingency.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/verify/contingency.h"

namespace neuralom {

enum class ExtremeTails { kUpper, kBoth };

/// "upper" / "both".
const char* extreme_tails_name(ExtremeTails tails);

/// A variable whose extremes are scored.
struct ExtremeVariable {
  std::string name;                       ///< an output channel name, e.g. "U0"
  ExtremeTails tails = ExtremeTails::kBoth;
};

/// The thresholds of one (variable, quantile), in the variable's physical units.
struct ExtremeThreshold {
  double lower = 0.0;  ///< the 1−q quantile (used with both tails only)
  double upper = 0.0;  ///< the q quantile
};

/// What is scored: variables, their channels, quantiles and thresholds.
struct ExtremesSpec {
  std::vector<ExtremeVariable> variables;
  std::vector<int64_t> channels;   ///< output-channel index of each variable
  std::vector<double> quantiles;   ///< each in (0.5, 1)
  std::vector<std::vector<ExtremeThreshold>> thresholds;  ///< [variable][quantile]
  std::string threshold_source;    ///< how the thresholds were obtained, for the outputs
};

/// The scores of one system.
struct ExtremesTable {
  std::string system;
  ExtremesSpec spec;
  std::vector<int64_t> leads;                                   ///< lead days with data, ascending
  std::vector<int64_t> ic_count;                                ///< [L]
  std::vector<std::vector<std::vector<ContingencyCounts>>> counts;  ///< [L][variable][quantile]
};

/// What one initial condition contributes to the extreme-event counts of one system.
struct IcContingency {
  int64_t variables = 0;         ///< V
  int64_t quantiles = 0;         ///< Q
  std::vector<int64_t> counts;   ///< [(max_lead + 1) * V * Q * 4]: hits, misses, false alarms, correct negatives
  std::vector<int64_t> fields;   ///< [max_lead + 1] fields added per lead
};

/// The table of one system from per-IC counts (integers: the order does not matter). Leads without
/// fields are left out. Throws std::invalid_argument if the ICs' shapes differ from `spec`.
ExtremesTable extremes_table(std::string system, ExtremesSpec spec, const std::vector<const IcContingency*>& ics);

/// Counts the events of the current batch of initial conditions on the compute device.
class ExtremesAccumulator {
 public:
  /// `ocean_mask`: bool `[C, H, W]` of the output channels (any device; moved to `device`).
  ExtremesAccumulator(std::string system, ExtremesSpec spec, int64_t max_lead, const at::Tensor& ocean_mask,
                      c10::Device device);

  /// `pred`, `truth`: physical-unit anomalies `[B, C, H, W]` (float32 values; any float dtype) on the
  /// device, row b of every call belonging to IC b of the batch.
  void add(int64_t lead, const at::Tensor& pred, const at::Tensor& truth);

  /// The batch's per-IC counts, on the host, in batch order; the next add() starts a new batch.
  std::vector<IcContingency> take_batch();

  const std::string& system() const { return system_; }
  const ExtremesSpec& spec() const { return spec_; }

 private:
  at::Tensor events(const at::Tensor& x) const;  // bool [B, V, Q, H, W]

  std::string system_;
  ExtremesSpec spec_;
  at::Tensor index_;   // [V] long
  at::Tensor mask_;    // [1, V, 1, H, W] bool
  at::Tensor upper_;   // [1, V, Q, 1, 1] float64
  at::Tensor lower_;   // [1, V, Q, 1, 1] float64, −inf for upper-tail variables
  int64_t max_lead_;
  at::Tensor batch_counts_;  // [B, L + 1, V, Q, 4] int64: hits, misses, false alarms, correct negatives
  std::vector<std::vector<int64_t>> batch_fields_;  // [B][L + 1]
};

}  // namespace neuralom
