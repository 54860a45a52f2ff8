#include "neuralom/verify/metrics.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

namespace neuralom {

std::vector<double> latitude_weights(int64_t height) {
  std::vector<double> w(static_cast<std::size_t>(height));
  const double deg = M_PI / 180.0;
  for (int64_t i = 0; i < height; ++i) {
    const double lat = -90.0 + 180.0 * static_cast<double>(i) / static_cast<double>(height);
    w[static_cast<std::size_t>(i)] = std::cos(lat * deg);
  }
  return w;
}

WeightedSums weighted_sums(const at::Tensor& p_in, const at::Tensor& t_in, const at::Tensor& weights) {
  const at::Tensor p = p_in.to(at::kDouble);
  const at::Tensor t = t_in.to(at::kDouble);
  const at::Tensor w = weights.unsqueeze(0);  // [1, C, H, W]
  const std::vector<int64_t> spatial{2, 3};
  WeightedSums s;
  s.weight = weights.sum(std::vector<int64_t>{1, 2}).unsqueeze(0).expand({p.size(0), p.size(1)});
  const at::Tensor wp = w * p;
  const at::Tensor wt = w * t;
  const at::Tensor d = p - t;
  s.sq_error = (w * d * d).sum(spatial);
  s.pt = (wp * t).sum(spatial);
  s.pp = (wp * p).sum(spatial);
  s.tt = (wt * t).sum(spatial);
  return s;
}

at::Tensor field_mse(const WeightedSums& s) {
  // 0/0 (a channel without ocean points) gives NaN, which is what we want to report.
  return s.sq_error / s.weight;
}

at::Tensor field_acc(const WeightedSums& s) { return s.pt / (s.pp * s.tt).sqrt(); }

int64_t MetricsTable::lead_row(int64_t lead) const {
  for (std::size_t i = 0; i < leads.size(); ++i) {
    if (leads[i] == lead) return static_cast<int64_t>(i);
  }
  return -1;
}

int64_t MetricsTable::variable_column(const std::string& name) const {
  for (std::size_t i = 0; i < variables.size(); ++i) {
    if (variables[i] == name) return static_cast<int64_t>(i);
  }
  return -1;
}

MetricsTable metrics_table(std::string system, std::vector<std::string> variables, std::vector<double> channel_std,
                           const std::vector<const IcMetrics*>& ics, const std::vector<bool>& has_ocean) {
  MetricsTable table;
  table.system = std::move(system);
  table.variables = std::move(variables);
  table.channel_std = std::move(channel_std);
  if (!has_ocean.empty() && has_ocean.size() != table.variables.size()) {
    throw std::invalid_argument("metrics_table: an ocean flag for each of " + std::to_string(has_ocean.size()) +
                                " channels, for " + std::to_string(table.variables.size()) + " variables");
  }
  const auto scored = [&has_ocean](std::size_t ch) { return has_ocean.empty() || has_ocean[ch]; };
  for (std::size_t ch = 0; ch < table.variables.size(); ++ch) {
    if (!scored(ch)) table.unscored.push_back(table.variables[ch]);
  }
  if (ics.empty()) return table;
  const int64_t c = ics.front()->channels;
  const std::size_t leads = ics.front()->fields.size();
  if (c != static_cast<int64_t>(table.variables.size()) || c != static_cast<int64_t>(table.channel_std.size())) {
    throw std::invalid_argument("metrics_table: " + std::to_string(c) + " channels for " +
                                std::to_string(table.variables.size()) + " variables");
  }
  const auto averaged = static_cast<double>(table.variables.size() - table.unscored.size());
  const auto row = static_cast<std::size_t>(c);
  for (const IcMetrics* ic : ics) {
    if (ic->channels != c || ic->fields.size() != leads || ic->mse.size() != leads * row || ic->acc.size() != leads * row) {
      throw std::invalid_argument("metrics_table: initial conditions of different shapes");
    }
  }
  for (std::size_t lead = 0; lead < leads; ++lead) {
    int64_t n = 0;
    std::vector<double> mse(row, 0.0);
    std::vector<double> acc(row, 0.0);
    // In the order given: the sum is the same for any batching or number of processes.
    for (const IcMetrics* ic : ics) {
      n += ic->fields[lead];
      for (std::size_t ch = 0; ch < row; ++ch) {
        mse[ch] += ic->mse[lead * row + ch];
        acc[ch] += ic->acc[lead * row + ch];
      }
    }
    if (n == 0) continue;
    std::vector<double> rmse_row, nrmse_row, acc_row;
    double nrmse_sum = 0.0, acc_sum = 0.0;
    for (std::size_t ch = 0; ch < row; ++ch) {
      const double rmse = std::sqrt(mse[ch] / static_cast<double>(n));
      const double a = acc[ch] / static_cast<double>(n);
      const double nr = rmse / table.channel_std[ch];
      rmse_row.push_back(rmse);
      nrmse_row.push_back(nr);
      acc_row.push_back(a);
      if (!scored(ch)) continue;
      nrmse_sum += nr;
      acc_sum += a;
    }
    table.leads.push_back(static_cast<int64_t>(lead));
    table.ic_count.push_back(n);
    table.rmse.push_back(std::move(rmse_row));
    table.nrmse.push_back(std::move(nrmse_row));
    table.acc.push_back(std::move(acc_row));
    // No scored variable at all: NaN, not 0/0's accident.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    table.mean_nrmse.push_back(averaged > 0 ? nrmse_sum / averaged : nan);
    table.mean_acc.push_back(averaged > 0 ? acc_sum / averaged : nan);
  }
  return table;
}

std::vector<bool> channels_with_ocean(const at::Tensor& mask) {
  const at::Tensor any = (mask.reshape({mask.size(0), -1}) != 0).any(1).to(at::kCPU);
  std::vector<bool> out(static_cast<std::size_t>(any.size(0)));
  const auto a = any.accessor<bool, 1>();
  for (int64_t c = 0; c < any.size(0); ++c) out[static_cast<std::size_t>(c)] = a[c];
  return out;
}

MetricsAccumulator::MetricsAccumulator(std::string system, std::vector<std::string> variables,
                                       std::vector<double> channel_std, int64_t max_lead, const at::Tensor& weights)
    : system_(std::move(system)),
      variables_(std::move(variables)),
      channel_std_(std::move(channel_std)),
      max_lead_(max_lead),
      weights_(weights.to(at::kDouble)) {}

void MetricsAccumulator::add(int64_t lead, const at::Tensor& p, const at::Tensor& t) {
  const WeightedSums s = weighted_sums(p, t, weights_);
  const int64_t b = p.size(0);
  const int64_t have = batch_mse_.defined() ? batch_mse_.size(0) : 0;
  if (have < b) {
    // The first add() of a batch sizes it (a later, larger one widens it).
    const at::Tensor more = at::zeros({b - have, max_lead_ + 1, weights_.size(0)}, weights_.options());
    batch_mse_ = have == 0 ? more : at::cat({batch_mse_, more}, 0);
    batch_acc_ = have == 0 ? more.clone() : at::cat({batch_acc_, more}, 0);
    batch_fields_.resize(static_cast<std::size_t>(b), std::vector<int64_t>(static_cast<std::size_t>(max_lead_ + 1), 0));
  }
  batch_mse_.select(1, lead).narrow(0, 0, b).add_(field_mse(s));
  batch_acc_.select(1, lead).narrow(0, 0, b).add_(field_acc(s));
  for (int64_t i = 0; i < b; ++i) ++batch_fields_[static_cast<std::size_t>(i)][static_cast<std::size_t>(lead)];
}

std::vector<IcMetrics> MetricsAccumulator::take_batch() {
  std::vector<IcMetrics> out;
  if (!batch_mse_.defined()) return out;
  const at::Tensor mse = batch_mse_.cpu().contiguous();
  const at::Tensor acc = batch_acc_.cpu().contiguous();
  const int64_t per_ic = mse.size(1) * mse.size(2);
  for (int64_t i = 0; i < mse.size(0); ++i) {
    IcMetrics ic;
    ic.channels = mse.size(2);
    const double* m = mse.data_ptr<double>() + i * per_ic;
    const double* a = acc.data_ptr<double>() + i * per_ic;
    ic.mse.assign(m, m + per_ic);
    ic.acc.assign(a, a + per_ic);
    ic.fields = std::move(batch_fields_[static_cast<std::size_t>(i)]);
    out.push_back(std::move(ic));
  }
  batch_mse_ = at::Tensor();
  batch_acc_ = at::Tensor();
  batch_fields_.clear();
  return out;
}

}  // namespace neuralom
