// Thresholds of the extreme-event scores (verify/extremes.h) from the truth of the run itself.
//
// A streaming engine scores each lead as it comes, so the thresholds must be known before the
// rollout starts: they come from a first pass over the verification days. For each scored variable
// and quantile q, the upper threshold is the q quantile, and the lower one the 1−q quantile, of the
// truth anomaly over the channel's ocean points in every verified field, i.e. every (IC, lead ≥ 1)
// pair of the run — a day verified by k forecasts counts k times, so the scored sample has the
// base rate 1−q. The values are those of the fields file (de-normalised, rounded to float32), and
// the quantile is NumPy's default one: the same as
//
//   numpy.quantile(truth[:, 1:, channel][:, :, ocean].astype(float64), q)
//
// on results_*.h5's ground_truth. Each distinct day is read twice, one channel at a time, with
// bounded memory (verify/quantile.h).
#pragma once

#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/fields.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/verify/extremes.h"

namespace neuralom {

/// Computes `plan.extremes`' thresholds ([variable][quantile]) and describes their source in
/// `source`. `file_stats`: statistics of all file channels; `out_stats`: of the output channels;
/// `ocean_mask`: bool `[C, H, W]` of the output channels. Throws InputError.
std::vector<std::vector<ExtremeThreshold>> thresholds_from_truth(const RunPlan& plan,
                                                                 std::shared_ptr<const FieldsFile> ocean,
                                                                 std::shared_ptr<const Climatology> climatology,
                                                                 const NormStats& file_stats, const NormStats& out_stats,
                                                                 const at::Tensor& ocean_mask, std::string& source);

}  // namespace neuralom
