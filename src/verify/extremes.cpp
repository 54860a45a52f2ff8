#include "neuralom/verify/extremes.h"

#include <limits>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

namespace neuralom {

const char* extreme_tails_name(ExtremeTails tails) { return tails == ExtremeTails::kUpper ? "upper" : "both"; }

ExtremesAccumulator::ExtremesAccumulator(std::string system, ExtremesSpec spec, int64_t max_lead,
                                         const at::Tensor& ocean_mask, c10::Device device)
    : system_(std::move(system)), spec_(std::move(spec)), max_lead_(max_lead) {
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
  const std::vector<int64_t> over{3, 4};
  auto count = [&](const at::Tensor& a, const at::Tensor& b) {
    return at::logical_and(at::logical_and(a, b), mask_).sum(over);  // [B, V, Q] int64
  };
  const at::Tensor table = at::stack({count(observed, forecast), count(observed, not_forecast),
                                      count(not_observed, forecast), count(not_observed, not_forecast)},
                                     -1);  // [B, V, Q, 4]
  const int64_t b = pred.size(0);
  const int64_t have = batch_counts_.defined() ? batch_counts_.size(0) : 0;
  if (have < b) {
    const at::Tensor more = at::zeros({b - have, max_lead_ + 1, table.size(1), table.size(2), 4}, table.options());
    batch_counts_ = have == 0 ? more : at::cat({batch_counts_, more}, 0);
    batch_fields_.resize(static_cast<std::size_t>(b), std::vector<int64_t>(static_cast<std::size_t>(max_lead_ + 1), 0));
  }
  batch_counts_.select(1, lead).narrow(0, 0, b).add_(table);
  for (int64_t i = 0; i < b; ++i) ++batch_fields_[static_cast<std::size_t>(i)][static_cast<std::size_t>(lead)];
}

std::vector<IcContingency> ExtremesAccumulator::take_batch() {
  std::vector<IcContingency> out;
  if (!batch_counts_.defined()) return out;
  const at::Tensor host = batch_counts_.cpu().contiguous();
  const int64_t per_ic = host.numel() / host.size(0);
  for (int64_t i = 0; i < host.size(0); ++i) {
    IcContingency ic;
    ic.variables = host.size(2);
    ic.quantiles = host.size(3);
    const int64_t* c = host.data_ptr<int64_t>() + i * per_ic;
    ic.counts.assign(c, c + per_ic);
    ic.fields = std::move(batch_fields_[static_cast<std::size_t>(i)]);
    out.push_back(std::move(ic));
  }
  batch_counts_ = at::Tensor();
  batch_fields_.clear();
  return out;
}

ExtremesTable extremes_table(std::string system, ExtremesSpec spec, const std::vector<const IcContingency*>& ics) {
  ExtremesTable table;
  table.system = std::move(system);
  table.spec = std::move(spec);
  if (ics.empty()) return table;
  const auto n_var = static_cast<int64_t>(table.spec.variables.size());
  const auto n_q = static_cast<int64_t>(table.spec.quantiles.size());
  const std::size_t leads = ics.front()->fields.size();
  const auto per_lead = static_cast<std::size_t>(n_var * n_q * 4);
  for (const IcContingency* ic : ics) {
    if (ic->variables != n_var || ic->quantiles != n_q || ic->fields.size() != leads ||
        ic->counts.size() != leads * per_lead) {
      throw std::invalid_argument("extremes_table: initial conditions of different shapes");
    }
  }
  for (std::size_t lead = 0; lead < leads; ++lead) {
    int64_t n = 0;
    std::vector<int64_t> sum(per_lead, 0);
    for (const IcContingency* ic : ics) {
      n += ic->fields[lead];
      for (std::size_t k = 0; k < per_lead; ++k) sum[k] += ic->counts[lead * per_lead + k];
    }
    if (n == 0) continue;
    std::vector<std::vector<ContingencyCounts>> per_variable;
    for (int64_t v = 0; v < n_var; ++v) {
      std::vector<ContingencyCounts> per_quantile;
      for (int64_t q = 0; q < n_q; ++q) {
        const int64_t* c = sum.data() + (v * n_q + q) * 4;
        per_quantile.push_back(ContingencyCounts{c[0], c[1], c[2], c[3]});
      }
      per_variable.push_back(std::move(per_quantile));
    }
    table.leads.push_back(static_cast<int64_t>(lead));
    table.ic_count.push_back(n);
    table.counts.push_back(std::move(per_variable));
  }
  return table;
}

}  // namespace neuralom
