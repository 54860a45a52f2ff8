#include "neuralom/verify/extremes.h"

#include <limits>

#include <ATen/ATen.h>

namespace neuralom {

const char* extreme_tails_name(ExtremeTails tails) { return tails == ExtremeTails::kUpper ? "upper" : "both"; }

ExtremesAccumulator::ExtremesAccumulator(std::string system, ExtremesSpec spec, int64_t max_lead,
                                         const at::Tensor& ocean_mask, c10::Device device)
    : system_(std::move(system)), spec_(std::move(spec)), ic_count_(static_cast<std::size_t>(max_lead + 1), 0) {
  const auto n_var = static_cast<int64_t>(spec_.variables.size());
  const auto n_q = static_cast<int64_t>(spec_.quantiles.size());
  index_ = at::tensor(spec_.channels, at::kLong).to(device);
  mask_ = ocean_mask.to(device).to(at::kBool).index_select(0, index_).unsqueeze(0).unsqueeze(2);
  std::vector<double> upper;
  std::vector<double> lower;
  for (std::size_t v = 0; v < spec_.variables.size(); ++v) {
    for (const auto& t : spec_.thresholds[v]) {
      upper.push_back(t.upper);
      lower.push_back(spec_.variables[v].tails == ExtremeTails::kBoth ? t.lower
                                                                        : -std::numeric_limits<double>::infinity());
    }
  }
  upper_ = at::tensor(upper, at::kDouble).view({1, n_var, n_q, 1, 1}).to(device);
  lower_ = at::tensor(lower, at::kDouble).view({1, n_var, n_q, 1, 1}).to(device);
  counts_ = at::zeros({max_lead + 1, n_var, n_q, 4}, at::TensorOptions().dtype(at::kLong).device(device));
}

at::Tensor ExtremesAccumulator::events(const at::Tensor& x) const {
  // float32 values compared in float64 with the float64 thresholds, as NumPy compares them.
  const at::Tensor v = x.index_select(1, index_).to(at::kFloat).to(at::kDouble).unsqueeze(2);  // [B, V, 1, H, W]
  return at::logical_or(v > upper_, v < lower_);
}

void ExtremesAccumulator::add(int64_t lead, const at::Tensor& pred, const at::Tensor& truth) {
  const at::Tensor observed = events(truth);
  const at::Tensor forecast = events(pred);
  const at::Tensor not_observed = at::logical_not(observed);
  const at::Tensor not_forecast = at::logical_not(forecast);
  const std::vector<int64_t> over{0, 3, 4};
  auto count = [&](const at::Tensor& a, const at::Tensor& b) {
    return at::logical_and(at::logical_and(a, b), mask_).sum(over);  // [V, Q] int64
  };
  const at::Tensor table = at::stack({count(observed, forecast), count(observed, not_forecast),
                                      count(not_observed, forecast), count(not_observed, not_forecast)},
                                     -1);
  counts_[lead].add_(table);
  ic_count_[static_cast<std::size_t>(lead)] += pred.size(0);
}

ExtremesTable ExtremesAccumulator::result() const {
  ExtremesTable table;
  table.system = system_;
  table.spec = spec_;
  const at::Tensor host = counts_.cpu().contiguous();
  const auto c = host.accessor<int64_t, 4>();
  for (std::size_t lead = 0; lead < ic_count_.size(); ++lead) {
    if (ic_count_[lead] == 0) continue;
    const auto l = static_cast<int64_t>(lead);
    std::vector<std::vector<ContingencyCounts>> per_variable;
    for (int64_t v = 0; v < host.size(1); ++v) {
      std::vector<ContingencyCounts> per_quantile;
      for (int64_t q = 0; q < host.size(2); ++q) {
        per_quantile.push_back(ContingencyCounts{c[l][v][q][0], c[l][v][q][1], c[l][v][q][2], c[l][v][q][3]});
      }
      per_variable.push_back(std::move(per_quantile));
    }
    table.leads.push_back(l);
    table.ic_count.push_back(ic_count_[lead]);
    table.counts.push_back(std::move(per_variable));
  }
  return table;
}

}  // namespace neuralom
