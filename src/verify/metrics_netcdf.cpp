#include "neuralom/verify/metrics_netcdf.h"

#include <cmath>
#include <limits>

#include "neuralom/core/errors.h"
#include "neuralom/io/netcdf_file.h"
#include "neuralom/io/output_file.h"
#include "neuralom/verify/cf_variables.h"

namespace neuralom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A score of the tables as `[system, lead, depth]` (or `[system, lead]`) for one CF variable.
std::vector<double> gather(const std::vector<MetricsTable>& systems, const CfLayout& cf, std::size_t variable,
                           const std::vector<std::vector<double>> MetricsTable::*score) {
  const bool has_depth = cf_ocean_variables()[variable].has_depth;
  const std::size_t n_depth = has_depth ? cf.depths.size() : 1;
  const std::size_t n_lead = systems.front().leads.size();
  std::vector<double> out(systems.size() * n_lead * n_depth, kNaN);
  for (std::size_t s = 0; s < systems.size(); ++s) {
    const auto& rows = systems[s].*score;
    for (std::size_t c = 0; c < cf.channel_variable.size(); ++c) {
      if (cf.channel_variable[c] != variable) continue;
      const std::size_t d = has_depth ? static_cast<std::size_t>(cf.channel_depth_index[c]) : 0;
      for (std::size_t l = 0; l < n_lead; ++l) out[(s * n_lead + l) * n_depth + d] = rows[l][c];
    }
  }
  return out;
}

}  // namespace

void write_metrics_netcdf(const std::string& path, const std::vector<MetricsTable>& systems,
                          const std::vector<double>& channel_depths,
                          const std::vector<std::pair<std::string, std::string>>& attributes) {
  if (systems.empty()) throw OutputError(path + ": no scores to write");
  for (const auto& t : systems) {
    if (t.leads != systems.front().leads || t.variables != systems.front().variables) {
      throw OutputError(path + ": the systems were scored on different leads or variables");
    }
  }
  const MetricsTable& first = systems.front();
  const CfLayout cf = cf_layout(first.variables, channel_depths);
  const auto n_system = static_cast<int64_t>(systems.size());
  const auto n_lead = static_cast<int64_t>(first.leads.size());
  const auto n_depth = static_cast<int64_t>(cf.depths.size());

  PendingFile pending(path);
  {
    NetcdfFile f = NetcdfFile::create(pending.temp_path(), NetcdfFormat::kNetcdf4);
    f.define_dimension("system", n_system);
    f.define_dimension("lead", n_lead);
    if (n_depth > 0) f.define_dimension("depth", n_depth);
    f.define_variable("system", NetcdfType::kString, {"system"});
    f.put_attribute("system", "long_name", "forecast system (model, persistence: initial state held, climatology: "
                                           "zero anomaly)");
    define_lead_coordinate(f);
    if (n_depth > 0) define_depth_coordinate(f);
    struct Score {
      const char* prefix;
      const std::vector<std::vector<double>> MetricsTable::*member;
      const char* what;
    };
    const Score scores[] = {{"rmse", &MetricsTable::rmse, "root-mean-square error"},
                            {"nrmse", &MetricsTable::nrmse, "root-mean-square error / standard deviation of the channel"},
                            {"acc", &MetricsTable::acc, "anomaly correlation coefficient"}};
    for (const std::size_t v : cf.variables) {
      const CfVariable& var = cf_ocean_variables()[v];
      std::vector<std::string> dims{"system", "lead"};
      if (var.has_depth) dims.emplace_back("depth");
      for (const auto& score : scores) {
        const std::string name = std::string(score.prefix) + "_" + var.name;
        f.define_variable(name, NetcdfType::kFloat64, dims, {}, 0, /*nan_fill=*/true);
        f.put_attribute(name, "long_name", std::string(score.what) + " of " + var.long_name);
        f.put_attribute(name, "units", std::string(score.prefix) == "rmse" ? var.difference_units : "1");
      }
    }
    f.define_variable("nrmse_all", NetcdfType::kFloat64, {"system", "lead"}, {}, 0, /*nan_fill=*/true);
    f.put_attribute("nrmse_all", "long_name", "mean normalised RMSE over the channels with ocean points");
    f.put_attribute("nrmse_all", "units", "1");
    f.define_variable("acc_all", NetcdfType::kFloat64, {"system", "lead"}, {}, 0, /*nan_fill=*/true);
    f.put_attribute("acc_all", "long_name", "mean ACC over the channels with ocean points");
    f.put_attribute("acc_all", "units", "1");
    f.define_variable("n_ic", NetcdfType::kInt32, {"system", "lead"});
    f.put_attribute("n_ic", "long_name", "initial conditions averaged");
    f.put_attribute("", "Conventions", "CF-1.8");
    f.put_attribute("", "title", "NeuralOM verification scores");
    f.put_attribute("", "comment",
                    "Per lead day, averaged over initial conditions, in physical units; weights cos(lat) over the "
                    "ocean points of each channel (as metrics.csv).");
    for (const auto& [key, value] : attributes) f.put_attribute("", key, value);
    f.end_definitions();

    std::vector<std::string> names;
    std::vector<double> nrmse_all;
    std::vector<double> acc_all;
    std::vector<int32_t> n_ic;
    for (const auto& t : systems) {
      names.push_back(t.system);
      nrmse_all.insert(nrmse_all.end(), t.mean_nrmse.begin(), t.mean_nrmse.end());
      acc_all.insert(acc_all.end(), t.mean_acc.begin(), t.mean_acc.end());
      for (const int64_t n : t.ic_count) n_ic.push_back(static_cast<int32_t>(n));
    }
    f.write("system", names);
    const std::vector<int32_t> leads(first.leads.begin(), first.leads.end());
    f.write("lead", {0}, {n_lead}, leads.data());
    if (n_depth > 0) f.write("depth", {0}, {n_depth}, cf.depths.data());
    for (const std::size_t v : cf.variables) {
      const CfVariable& var = cf_ocean_variables()[v];
      std::vector<int64_t> count{n_system, n_lead};
      if (var.has_depth) count.push_back(n_depth);
      const std::vector<int64_t> start(count.size(), 0);
      for (const auto& score : scores) {
        const std::vector<double> values = gather(systems, cf, v, score.member);
        f.write(std::string(score.prefix) + "_" + var.name, start, count, values.data());
      }
    }
    f.write("nrmse_all", {0, 0}, {n_system, n_lead}, nrmse_all.data());
    f.write("acc_all", {0, 0}, {n_system, n_lead}, acc_all.data());
    f.write("n_ic", {0, 0}, {n_system, n_lead}, n_ic.data());
    f.close();
  }
  pending.commit();
}

}  // namespace neuralom
