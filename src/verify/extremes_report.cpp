#include "neuralom/verify/extremes_report.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "neuralom/core/errors.h"
#include "neuralom/core/number_text.h"
#include "neuralom/io/json_file.h"
#include "neuralom/io/output_file.h"

namespace neuralom {
namespace {

/// The shortest text that reads back as the same double ("0.9", not "0.90000000000000002").
std::string number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t\r");
    const auto e = item.find_last_not_of(" \t\r");
    out.push_back(b == std::string::npos ? std::string() : item.substr(b, e - b + 1));
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

/// Quantiles are matched to 1e-9: "0.9" in a file and 0.9 on the command line are the same.
bool same_quantile(double a, double b) { return std::abs(a - b) <= 1e-9; }

}  // namespace

void write_extremes_csv(const std::string& path, const std::vector<ExtremesTable>& systems) {
  std::ostringstream csv;
  csv << "system,lead,variable,channel,tails,quantile,lower_threshold,upper_threshold,hits,misses,false_alarms,"
         "correct_negatives,csi,sedi,n_ic\n";
  for (const auto& t : systems) {
    const ExtremesSpec& s = t.spec;
    for (std::size_t l = 0; l < t.leads.size(); ++l) {
      for (std::size_t v = 0; v < s.variables.size(); ++v) {
        const bool both = s.variables[v].tails == ExtremeTails::kBoth;
        for (std::size_t q = 0; q < s.quantiles.size(); ++q) {
          const ExtremeThreshold& th = s.thresholds[v][q];
          const ContingencyCounts& c = t.counts[l][v][q];
          csv << t.system << ',' << t.leads[l] << ',' << s.variables[v].name << ',' << s.channels[v] << ','
              << extreme_tails_name(s.variables[v].tails) << ',' << number(s.quantiles[q]) << ','
              << (both ? number(th.lower) : std::string()) << ',' << number(th.upper) << ',' << c.hits << ','
              << c.misses << ',' << c.false_alarms << ',' << c.correct_negatives << ','
              << number(critical_success_index(c)) << ',' << number(symmetric_extremal_dependence_index(c)) << ','
              << t.ic_count[l] << '\n';
        }
      }
    }
  }
  write_text_file(path, csv.str());
}

void write_extremes_json(const std::string& path, const std::vector<ExtremesTable>& systems) {
  using Json = nlohmann::ordered_json;
  Json root = Json::object();
  root["definition"] =
      "Events at ocean grid points (unweighted counts): anomaly > upper threshold, or for tails 'both' also "
      "anomaly < lower threshold; the thresholds are the quantile q and 1-q of the truth anomalies (see "
      "threshold_source). Observed events from the truth, forecast events from the system, both rounded to float32. "
      "Counts are summed over initial conditions per lead day. csi = hits / (hits + misses + false_alarms); "
      "sedi = (ln F - ln H - ln(1-F) + ln(1-H)) / (ln F + ln H + ln(1-F) + ln(1-H)) with H = hits / (hits + misses), "
      "F = false_alarms / (false_alarms + correct_negatives) (Ferro and Stephenson 2011); null where undefined.";
  if (!systems.empty()) {
    const ExtremesSpec& s = systems.front().spec;
    root["threshold_source"] = s.threshold_source;
    root["quantiles"] = s.quantiles;
    Json vars = Json::array();
    for (std::size_t v = 0; v < s.variables.size(); ++v) {
      Json var = Json::object();
      var["name"] = s.variables[v].name;
      var["channel"] = s.channels[v];
      var["tails"] = extreme_tails_name(s.variables[v].tails);
      std::vector<double> lower;
      std::vector<double> upper;
      for (const auto& th : s.thresholds[v]) {
        lower.push_back(s.variables[v].tails == ExtremeTails::kBoth ? th.lower : std::nan(""));
        upper.push_back(th.upper);
      }
      var["lower_threshold"] = lower;
      var["upper_threshold"] = upper;
      vars.push_back(std::move(var));
    }
    root["variables"] = std::move(vars);
  }
  Json list = Json::object();
  for (const auto& t : systems) {
    Json s = Json::object();
    s["leads"] = t.leads;
    s["n_ic"] = t.ic_count;
    std::vector<std::vector<std::vector<int64_t>>> hits, misses, false_alarms, negatives;
    std::vector<std::vector<std::vector<double>>> csi, sedi;
    for (const auto& per_lead : t.counts) {
      auto& h = hits.emplace_back();
      auto& m = misses.emplace_back();
      auto& f = false_alarms.emplace_back();
      auto& n = negatives.emplace_back();
      auto& c = csi.emplace_back();
      auto& e = sedi.emplace_back();
      for (const auto& per_var : per_lead) {
        h.emplace_back();
        m.emplace_back();
        f.emplace_back();
        n.emplace_back();
        c.emplace_back();
        e.emplace_back();
        for (const auto& k : per_var) {
          h.back().push_back(k.hits);
          m.back().push_back(k.misses);
          f.back().push_back(k.false_alarms);
          n.back().push_back(k.correct_negatives);
          c.back().push_back(critical_success_index(k));
          e.back().push_back(symmetric_extremal_dependence_index(k));
        }
      }
    }
    s["hits"] = hits;  // [lead][variable][quantile]
    s["misses"] = misses;
    s["false_alarms"] = false_alarms;
    s["correct_negatives"] = negatives;
    s["csi"] = csi;
    s["sedi"] = sedi;
    list[t.system] = std::move(s);
  }
  root["systems"] = std::move(list);
  write_json_file(path, root, /*indent=*/1);
}

ThresholdTable read_threshold_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the threshold file");
  std::string line;
  if (!std::getline(in, line)) throw InputError(path + ": empty threshold file (expected a CSV header)");
  const std::vector<std::string> header = split_csv_line(line);
  auto column = [&](const std::string& name) -> int {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  const int c_var = column("variable");
  const int c_q = column("quantile");
  const int c_lo = column("lower_threshold");
  const int c_up = column("upper_threshold");
  if (c_var < 0 || c_q < 0 || c_up < 0) {
    throw InputError(path + ": the header must name the columns variable, quantile, upper_threshold (and "
                     "lower_threshold for both tails); found '" + line + "'");
  }
  ThresholdTable table;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::vector<std::string> cells = split_csv_line(line);
    const std::string where = path + ":" + std::to_string(line_no);
    auto cell = [&](int c) { return c >= 0 && c < static_cast<int>(cells.size()) ? cells[static_cast<std::size_t>(c)] : ""; };
    auto number_at = [&](int c, const char* name, bool required) {
      const std::string text = cell(c);
      if (text.empty() && !required) return std::numeric_limits<double>::quiet_NaN();
      const std::optional<double> v = parse_real(text);
      if (!v) throw InputError(where + ": " + name + " '" + text + "' is not a number");
      return *v;
    };
    const std::string var = cell(c_var);
    if (var.empty()) throw InputError(where + ": empty variable");
    const double q = number_at(c_q, "quantile", true);
    const ExtremeThreshold th{number_at(c_lo, "lower_threshold", false), number_at(c_up, "upper_threshold", true)};
    for (const auto& [key, value] : table) {
      if (key.first == var && same_quantile(key.second, q)) {
        const bool lower_same = value.lower == th.lower || (std::isnan(value.lower) && std::isnan(th.lower));
        if (value.upper != th.upper || !lower_same) {
          throw InputError(where + ": thresholds of " + var + " at quantile " + number(q) +
                           " differ from an earlier row of the file");
        }
      }
    }
    table[{var, q}] = th;
  }
  return table;
}

std::vector<std::vector<ExtremeThreshold>> select_thresholds(const ThresholdTable& table, const ExtremesSpec& spec,
                                                            const std::string& path) {
  std::vector<std::vector<ExtremeThreshold>> out;
  for (const auto& var : spec.variables) {
    auto& row = out.emplace_back();
    for (const double q : spec.quantiles) {
      const ExtremeThreshold* found = nullptr;
      for (const auto& [key, value] : table) {
        if (key.first == var.name && same_quantile(key.second, q)) found = &value;
      }
      if (found == nullptr) {
        throw InputError(path + ": no thresholds for " + var.name + " at quantile " + number(q) +
                         " (the file needs a row per scored variable and quantile)");
      }
      if (var.tails == ExtremeTails::kBoth && std::isnan(found->lower)) {
        throw InputError(path + ": " + var.name + " is scored on both tails but its lower_threshold at quantile " +
                         number(q) + " is empty");
      }
      row.push_back(*found);
    }
  }
  return out;
}

}  // namespace neuralom
