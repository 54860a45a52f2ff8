#include "neuralom/verify/metrics_report.h"

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "neuralom/io/json_file.h"
#include "neuralom/io/output_file.h"

namespace neuralom {
namespace {

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

void write_metrics_csv(const std::string& path, const std::vector<MetricsTable>& systems) {
  std::ostringstream csv;
  csv << "system,lead,variable,channel,rmse,nrmse,acc,n_ic\n";
  for (const auto& t : systems) {
    for (std::size_t l = 0; l < t.leads.size(); ++l) {
      for (std::size_t c = 0; c < t.variables.size(); ++c) {
        csv << t.system << ',' << t.leads[l] << ',' << t.variables[c] << ',' << c << ',' << number(t.rmse[l][c]) << ','
            << number(t.nrmse[l][c]) << ',' << number(t.acc[l][c]) << ',' << t.ic_count[l] << '\n';
      }
      csv << t.system << ',' << t.leads[l] << ",ALL,,," << number(t.mean_nrmse[l]) << ',' << number(t.mean_acc[l])
          << ',' << t.ic_count[l] << '\n';
    }
  }
  write_text_file(path, csv.str());
}

void write_metrics_json(const std::string& path, const std::vector<MetricsTable>& systems) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  root["definition"] =
      "Per lead day and variable, averaged over initial conditions, in physical units. Weights w = cos(lat) of each "
      "row (lat = -90 + 180 i / H degrees) over the channel's ocean points. rmse = sqrt(mean_ic(sum w (p-t)^2 / "
      "sum w)); nrmse = rmse / std(channel); acc = mean_ic(sum w p t / sqrt(sum w p^2 * sum w t^2)); p, t are "
      "anomalies. mean_nrmse and mean_acc average over the variables that have ocean points (all but those in "
      "unscored_variables, whose scores are null).";
  nlohmann::ordered_json list = nlohmann::ordered_json::object();
  for (const auto& t : systems) {
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    s["variables"] = t.variables;
    s["channel_std"] = t.channel_std;
    s["leads"] = t.leads;
    s["n_ic"] = t.ic_count;
    s["rmse"] = t.rmse;  // [lead][variable]
    s["nrmse"] = t.nrmse;
    s["acc"] = t.acc;
    s["mean_nrmse"] = t.mean_nrmse;
    s["mean_acc"] = t.mean_acc;
    s["unscored_variables"] = t.unscored;
    list[t.system] = std::move(s);
  }
  root["systems"] = std::move(list);
  write_json_file(path, root, /*indent=*/1);
}

namespace {

/// A table cell: fixed-point, or "n/a" where a score is undefined (e.g. the ACC of a zero anomaly).
std::string cell(double value, int precision) {
  if (!std::isfinite(value)) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << value;
  return s.str();
}

}  // namespace

std::string format_summary(const std::vector<MetricsTable>& systems, const std::vector<int64_t>& leads,
                           const std::vector<std::string>& variables) {
  std::ostringstream out;
  for (const auto& t : systems) {
    std::vector<int64_t> rows;
    for (const auto lead : leads) {
      if (t.lead_row(lead) >= 0) rows.push_back(lead);
    }
    std::vector<int64_t> cols;
    for (const auto& v : variables) {
      const int64_t c = t.variable_column(v);
      if (c >= 0) cols.push_back(c);
    }
    if (rows.empty()) continue;
    out << t.system << " (" << t.ic_count[static_cast<std::size_t>(t.lead_row(rows.front()))]
        << " initial conditions)\n";
    out << std::left << std::setw(6) << "lead";
    for (const auto c : cols) {
      const auto& name = t.variables[static_cast<std::size_t>(c)];
      out << std::right << std::setw(11) << (name + " RMSE") << std::setw(9) << (name + " ACC");
    }
    out << std::setw(12) << "ALL nRMSE" << std::setw(9) << "ALL ACC" << "\n";
    for (const auto lead : rows) {
      const auto r = static_cast<std::size_t>(t.lead_row(lead));
      out << std::left << std::setw(6) << lead << std::right << std::fixed;
      for (const auto c : cols) {
        const auto k = static_cast<std::size_t>(c);
        out << std::setw(11) << cell(t.rmse[r][k], 4) << std::setw(9) << cell(t.acc[r][k], 3);
      }
      out << std::setw(12) << cell(t.mean_nrmse[r], 4) << std::setw(9) << cell(t.mean_acc[r], 3) << "\n";
      out.unsetf(std::ios::fixed);
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace neuralom
