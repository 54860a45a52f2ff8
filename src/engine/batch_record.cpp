#include "neuralom/engine/batch_record.h"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using Json = nlohmann::json;

Json metrics_json(const IcMetrics& m) {
  return Json{{"channels", m.channels}, {"mse", m.mse}, {"acc", m.acc}, {"fields", m.fields}};
}

IcMetrics metrics_of(const Json& j) {
  IcMetrics m;
  m.channels = j.at("channels").get<int64_t>();
  // NaN (an undefined ACC) is a CBOR float and stays NaN.
  for (const auto& v : j.at("mse")) m.mse.push_back(v.get<double>());
  for (const auto& v : j.at("acc")) m.acc.push_back(v.get<double>());
  m.fields = j.at("fields").get<std::vector<int64_t>>();
  return m;
}

Json contingency_json(const IcContingency& c) {
  return Json{{"variables", c.variables}, {"quantiles", c.quantiles}, {"counts", c.counts}, {"fields", c.fields}};
}

IcContingency contingency_of(const Json& j) {
  IcContingency c;
  c.variables = j.at("variables").get<int64_t>();
  c.quantiles = j.at("quantiles").get<int64_t>();
  c.counts = j.at("counts").get<std::vector<int64_t>>();
  c.fields = j.at("fields").get<std::vector<int64_t>>();
  return c;
}

Json stats_json(const RolloutStats& s) {
  return Json{{"total_seconds", s.total_seconds},     {"model_seconds", s.model_seconds},
              {"forcing_seconds", s.forcing_seconds}, {"io_wait_seconds", s.io_wait_seconds},
              {"sink_seconds", s.sink_seconds},       {"day_steps", s.day_steps},
              {"ic_days", s.ic_days}};
}

RolloutStats stats_of(const Json& j) {
  RolloutStats s;
  s.total_seconds = j.at("total_seconds").get<double>();
  s.model_seconds = j.at("model_seconds").get<double>();
  s.forcing_seconds = j.at("forcing_seconds").get<double>();
  s.io_wait_seconds = j.at("io_wait_seconds").get<double>();
  s.sink_seconds = j.at("sink_seconds").get<double>();
  s.day_steps = j.at("day_steps").get<int64_t>();
  s.ic_days = j.at("ic_days").get<int64_t>();
  return s;
}

Json record_json(const BatchRecord& r) {
  Json ics = Json::array();
  for (const auto& ic : r.ics) {
    Json metrics = Json::array();
    for (const auto& m : ic.metrics) metrics.push_back(metrics_json(m));
    Json extremes = Json::array();
    for (const auto& e : ic.extremes) extremes.push_back(contingency_json(e));
    ics.push_back(Json{{"slot", ic.slot}, {"ic", ic.ic}, {"metrics", metrics}, {"extremes", extremes}});
  }
  return Json{{"format", "neuralom-batch-1"}, {"batch", r.batch},        {"slots", {r.slots.begin, r.slots.end}},
              {"rank", r.rank},                {"part", r.part},          {"stats", stats_json(r.stats)},
              {"part_bytes", r.part_bytes}, {"ics", ics}};
}

BatchRecord record_of(const Json& j) {
  if (j.at("format").get<std::string>() != "neuralom-batch-1") throw std::runtime_error("unknown record format");
  BatchRecord r;
  r.batch = j.at("batch").get<int64_t>();
  r.slots = SlotRange{j.at("slots").at(0).get<int64_t>(), j.at("slots").at(1).get<int64_t>()};
  r.rank = j.at("rank").get<int>();
  r.part = j.at("part").get<std::string>();
  // Absent in the records of neuralom before 2026-12: the part's size is then not checked.
  r.part_bytes = j.contains("part_bytes") ? j["part_bytes"].get<int64_t>() : -1;
  r.stats = stats_of(j.at("stats"));
  for (const auto& ic : j.at("ics")) {
    IcScores s;
    s.slot = ic.at("slot").get<int64_t>();
    s.ic = ic.at("ic").get<int64_t>();
    for (const auto& m : ic.at("metrics")) s.metrics.push_back(metrics_of(m));
    for (const auto& e : ic.at("extremes")) s.extremes.push_back(contingency_of(e));
    r.ics.push_back(std::move(s));
  }
  if (static_cast<int64_t>(r.ics.size()) != r.slots.size()) throw std::runtime_error("ICs do not match the slots");
  return r;
}

std::string to_bytes(const Json& j) {
  const std::vector<std::uint8_t> cbor = Json::to_cbor(j);
  return std::string(cbor.begin(), cbor.end());
}

Json from_bytes(const std::string& bytes) {
  return Json::from_cbor(bytes.begin(), bytes.end());
}

}  // namespace

std::string encode_batch_record(const BatchRecord& record) { return to_bytes(record_json(record)); }

BatchRecord decode_batch_record(const std::string& bytes, const std::string& origin) {
  try {
    return record_of(from_bytes(bytes));
  } catch (const std::exception& e) {
    throw InputError(origin + ": not a readable batch record (" + e.what() + ")");
  }
}

std::string encode_batch_records(const std::vector<BatchRecord>& records) {
  Json all = Json::array();
  for (const auto& r : records) all.push_back(record_json(r));
  return to_bytes(all);
}

std::vector<BatchRecord> decode_batch_records(const std::string& bytes, const std::string& origin) {
  try {
    std::vector<BatchRecord> out;
    for (const auto& j : from_bytes(bytes)) out.push_back(record_of(j));
    return out;
  } catch (const std::exception& e) {
    throw InputError(origin + ": not readable batch records (" + e.what() + ")");
  }
}

RolloutStats total_stats(const std::vector<BatchRecord>& records) {
  RolloutStats total;
  for (const auto& r : records) {
    total.total_seconds += r.stats.total_seconds;
    total.model_seconds += r.stats.model_seconds;
    total.forcing_seconds += r.stats.forcing_seconds;
    total.io_wait_seconds += r.stats.io_wait_seconds;
    total.sink_seconds += r.stats.sink_seconds;
    total.day_steps += r.stats.day_steps;
    total.ic_days += r.stats.ic_days;
  }
  return total;
}

}  // namespace neuralom
