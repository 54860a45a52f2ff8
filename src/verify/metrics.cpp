#include "neuralom/verify/metrics.h"

#include <cmath>
#include <limits>

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

MetricsAccumulator::MetricsAccumulator(std::string system, std::vector<std::string> variables,
                                       std::vector<double> channel_std, int64_t max_lead, const at::Tensor& weights)
    : system_(std::move(system)),
      variables_(std::move(variables)),
      channel_std_(std::move(channel_std)),
      weights_(weights.to(at::kDouble)),
      count_(static_cast<std::size_t>(max_lead + 1), 0) {
  const auto opts = weights_.options();
  const int64_t c = weights_.size(0);
  sum_mse_ = at::zeros({max_lead + 1, c}, opts);
  sum_acc_ = at::zeros({max_lead + 1, c}, opts);
}

void MetricsAccumulator::add(int64_t lead, const at::Tensor& p, const at::Tensor& t) {
  const WeightedSums s = weighted_sums(p, t, weights_);
  sum_mse_[lead].add_(field_mse(s).sum(0));
  sum_acc_[lead].add_(field_acc(s).sum(0));
  count_[static_cast<std::size_t>(lead)] += p.size(0);
}

MetricsTable MetricsAccumulator::result() const {
  MetricsTable table;
  table.system = system_;
  table.variables = variables_;
  table.channel_std = channel_std_;
  const at::Tensor mse_host = sum_mse_.cpu().contiguous();
  const at::Tensor acc_host = sum_acc_.cpu().contiguous();
  const auto mse = mse_host.accessor<double, 2>();
  const auto acc = acc_host.accessor<double, 2>();
  const int64_t c = mse_host.size(1);
  for (std::size_t lead = 0; lead < count_.size(); ++lead) {
    const int64_t n = count_[lead];
    if (n == 0) continue;
    std::vector<double> rmse_row, nrmse_row, acc_row;
    double nrmse_sum = 0.0, acc_sum = 0.0;
    for (int64_t ch = 0; ch < c; ++ch) {
      const auto li = static_cast<int64_t>(lead);
      const double rmse = std::sqrt(mse[li][ch] / static_cast<double>(n));
      const double a = acc[li][ch] / static_cast<double>(n);
      const double nr = rmse / channel_std_[static_cast<std::size_t>(ch)];
      rmse_row.push_back(rmse);
      nrmse_row.push_back(nr);
      acc_row.push_back(a);
      nrmse_sum += nr;
      acc_sum += a;
    }
    table.leads.push_back(static_cast<int64_t>(lead));
    table.ic_count.push_back(n);
    table.rmse.push_back(std::move(rmse_row));
    table.nrmse.push_back(std::move(nrmse_row));
    table.acc.push_back(std::move(acc_row));
    table.mean_nrmse.push_back(nrmse_sum / static_cast<double>(c));
    table.mean_acc.push_back(acc_sum / static_cast<double>(c));
  }
  return table;
}

}  // namespace neuralom
