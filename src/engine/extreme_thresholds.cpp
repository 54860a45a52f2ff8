#include "neuralom/engine/extreme_thresholds.h"

#include <cmath>
#include <map>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/data/day_reader.h"
#include "neuralom/data/normaliser.h"
#include "neuralom/verify/quantile.h"

namespace neuralom {

std::vector<std::vector<ExtremeThreshold>> thresholds_from_truth(const RunPlan& plan,
                                                                 std::shared_ptr<const FieldsFile> ocean,
                                                                 std::shared_ptr<const Climatology> climatology,
                                                                 const NormStats& file_stats, const NormStats& out_stats,
                                                                 const at::Tensor& ocean_mask, std::string& source) {
  const RunSettings& s = plan.settings;
  const ExtremesSpec& spec = plan.extremes;

  // How many verified fields fall on each day.
  std::map<int64_t, int64_t> weight;
  int64_t fields = 0;
  for (const int64_t ic : s.ics) {
    for (int64_t lead = 1; lead <= plan.last_lead(); ++lead) {
      ++weight[ic + lead];
      ++fields;
    }
  }

  struct Variable {
    std::unique_ptr<DayReader> reader;
    at::Tensor mean;  // [1] float64
    at::Tensor std;
    at::Tensor ocean;  // bool [H, W]
    TwoPassQuantiles quantiles;
  };
  std::vector<Variable> variables;
  for (std::size_t v = 0; v < spec.variables.size(); ++v) {
    const int64_t out_channel = spec.channels[v];
    DayReaderSpec read;
    // The truth of output channel c is the file channel the rollout reads for it.
    read.channels = {s.in_channels[static_cast<std::size_t>(s.ocean_channels[static_cast<std::size_t>(out_channel)])]};
    read.height = plan.height;
    read.width = plan.width;
    std::vector<double> probabilities = spec.quantiles;
    if (spec.variables[v].tails == ExtremeTails::kBoth) {
      for (const double q : spec.quantiles) probabilities.push_back(1.0 - q);
    }
    const auto k = static_cast<std::size_t>(out_channel);
    variables.push_back(Variable{std::make_unique<DayReader>(ocean, climatology, file_stats, read),
                                 at::tensor(std::vector<double>{out_stats.mean[k]}, at::kDouble),
                                 at::tensor(std::vector<double>{out_stats.std[k]}, at::kDouble),
                                 ocean_mask[out_channel].to(at::kBool).cpu().contiguous(),
                                 TwoPassQuantiles(std::move(probabilities))});
  }

  spdlog::info("extreme thresholds: quantiles of the truth over {} verified fields ({} distinct days), two passes",
               fields, weight.size());
  for (const bool second : {false, true}) {
    for (const auto& [day, w] : weight) {
      for (auto& var : variables) {
        // The fields file's values: de-normalised in float64, rounded to float32.
        const at::Tensor x = denormalise(var.reader->read(day), var.mean, var.std).to(at::kFloat).contiguous();
        const auto n = static_cast<std::size_t>(x.numel());
        if (second) {
          var.quantiles.collect(x.data_ptr<float>(), var.ocean.data_ptr<bool>(), n, w);
        } else {
          var.quantiles.count(x.data_ptr<float>(), var.ocean.data_ptr<bool>(), n, w);
        }
      }
    }
    if (!second) {
      for (auto& var : variables) var.quantiles.start_second_pass();
    }
  }

  std::vector<std::vector<ExtremeThreshold>> out;
  const std::size_t n_q = spec.quantiles.size();
  for (std::size_t v = 0; v < variables.size(); ++v) {
    const std::vector<double> values = variables[v].quantiles.result();
    auto& row = out.emplace_back();
    for (std::size_t q = 0; q < n_q; ++q) {
      const bool both = spec.variables[v].tails == ExtremeTails::kBoth;
      row.push_back(ExtremeThreshold{both ? values[n_q + q] : std::nan(""), values[q]});
    }
  }
  source = "quantiles q (upper) and 1-q (lower) of the truth anomalies over the ocean points of the " +
           std::to_string(fields) + " verified (initial condition, lead >= 1) fields of this run (" +
           std::to_string(weight.size()) + " distinct days), as numpy.quantile(method='linear')";
  return out;
}

}  // namespace neuralom
