#include "neuralom/engine/journal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/core/version.h"
#include "neuralom/engine/cf_outputs.h"
#include "neuralom/engine/run_settings_json.h"
#include "neuralom/io/json_file.h"
#include "neuralom/io/output_file.h"
#include "neuralom/io/sha256.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kFormat = "neuralom-journal-1";
constexpr const char* kHeaderName = "journal.json";

std::string read_file(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) throw InputError(path + ": cannot be read");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw InputError(path + ": cannot be read");
  return bytes;
}

/// A string entry of a header, "" if absent.
std::string text_of(const Json& header, const char* key) {
  return header.contains(key) && header[key].is_string() ? header[key].get<std::string>() : std::string();
}

std::string batch_name(int64_t batch) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "batch-%06lld", static_cast<long long>(batch));
  return buf;
}

/// A value for a message: short values whole, long ones (IC lists) cut.
std::string shown(const Json& value) {
  std::string text = value.is_null() ? "(absent)" : value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

/// Size and modification time of a file, to notice a change when it is not hashed.
Json file_stamp(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto modified = fs::last_write_time(path, ec);
  if (ec) return Json{{"size", nullptr}, {"modified", nullptr}};
  return Json{{"size", static_cast<int64_t>(size)},
              {"modified", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                     modified.time_since_epoch())
                                                     .count())}};
}

std::string short_digest(const std::string& digest) { return digest.substr(0, 12) + "..."; }

/// What the engine reads from a header is there and of the right kind, so that a damaged or
/// hand-edited journal.json is an input error naming the entry, not an internal one later.
void check_header_shape(const Json& h, const std::string& path) {
  const auto refuse = [&](const std::string& what) {
    throw InputError(path + ": not a readable journal header (" + what + "); start the run again with --overwrite");
  };
  const auto need = [&](const Json& object, const char* key, const char* kind, auto is_kind, const std::string& where) {
    if (!object.contains(key) || !is_kind(object[key])) refuse(where + "'" + key + "' is not " + kind);
  };
  const auto is_object = [](const Json& v) { return v.is_object(); };
  const auto is_string = [](const Json& v) { return v.is_string(); };
  const auto is_array = [](const Json& v) { return v.is_array(); };
  const auto is_count = [](const Json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  const auto is_digest = [](const Json& v) { return v.is_null() || v.is_string(); };
  const auto is_stamp = [](const Json& v) { return v.is_null() || v.is_number_integer(); };
  need(h, "settings", "an object", is_object, "");
  need(h, "shard", "a string", is_string, "");
  need(h, "batches", "a count", is_count, "");
  need(h, "inputs", "a list", is_array, "");
  for (std::size_t i = 0; i < h["inputs"].size(); ++i) {
    const Json& e = h["inputs"][i];
    const std::string where = "inputs[" + std::to_string(i) + "].";
    if (!e.is_object()) refuse("inputs[" + std::to_string(i) + "] is not an object");
    need(e, "role", "a string", is_string, where);
    need(e, "path", "a string", is_string, where);
    need(e, "sha256", "a string or null", is_digest, where);
    need(e, "size", "an integer or null", is_stamp, where);
    need(e, "modified", "an integer or null", is_stamp, where);
  }
  if (!h.contains("extreme_thresholds") || h["extreme_thresholds"].is_null()) return;
  const Json& t = h["extreme_thresholds"];
  if (!t.is_object()) refuse("'extreme_thresholds' is not an object or null");
  need(t, "source", "a string", is_string, "extreme_thresholds.");
  need(t, "values", "a list", is_array, "extreme_thresholds.");
  for (const auto& row : t["values"]) {
    if (!row.is_array()) refuse("extreme_thresholds.values holds a row that is not a list");
    for (const auto& pair : row) {
      if (!pair.is_array() || pair.size() != 2 || !(pair[0].is_null() || pair[0].is_number()) || !pair[1].is_number()) {
        refuse("extreme_thresholds.values holds " + shown(pair) + ", not a [lower or null, upper] pair");
      }
    }
  }
}

}  // namespace

Journal::Journal(std::string directory, Json header) : directory_(std::move(directory)), header_(std::move(header)) {}

std::string Journal::header_path() const { return (fs::path(directory_) / kHeaderName).string(); }

std::string Journal::directory_of(const std::string& output_dir) { return (fs::path(output_dir) / "journal").string(); }

bool Journal::exists_in(const std::string& output_dir) {
  std::error_code ec;
  return fs::exists(fs::path(directory_of(output_dir)) / kHeaderName, ec);
}

Journal Journal::create(const std::string& output_dir, const Json& header) {
  const std::string dir = directory_of(output_dir);
  remove_tree(dir);
  std::error_code ec;
  if (fs::exists(dir, ec)) throw OutputError("cannot remove the old journal " + dir);
  fs::create_directories(fs::path(dir) / "parts", ec);
  if (ec) throw OutputError("cannot create the journal " + dir + ": " + ec.message());
  Journal journal(dir, header);
  write_json_file((fs::path(dir) / kHeaderName).string(), header);
  return journal;
}

Journal Journal::open(const std::string& output_dir) {
  const std::string dir = directory_of(output_dir);
  const std::string path = (fs::path(dir) / kHeaderName).string();
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw InputError("no journal in " + output_dir + " (" + path + " not found): is it the output directory of a run "
                     "(with MPI: is it on a filesystem every rank sees)?");
  }
  Json header;
  try {
    header = Json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not a readable journal header (" + e.what() + ")");
  }
  if (!header.contains("format") || header["format"] != kFormat) {
    throw InputError(path + ": not a journal of this neuralom (format " + shown(header.contains("format") ? header["format"] : Json()) +
                     ", expected \"" + kFormat + "\")");
  }
  check_header_shape(header, path);
  return Journal(dir, std::move(header));
}

void Journal::write_header(Json header) {
  write_json_file(header_path(), header);
  header_ = std::move(header);
}

std::string Journal::record_path(int64_t batch) const {
  return (fs::path(directory_) / (batch_name(batch) + ".cbor")).string();
}

std::string Journal::part_path(int64_t batch, const std::string& extension) const {
  return (fs::path(directory_) / "parts" / (batch_name(batch) + extension)).string();
}

std::vector<int64_t> Journal::finished_batches() const {
  std::vector<int64_t> out;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // "batch-000003.cbor" (six digits or more) exactly: a temporary "...cbor.partial" does not count.
    constexpr std::string_view kPrefix = "batch-";
    constexpr std::string_view kSuffix = ".cbor";
    if (name.size() < kPrefix.size() + 6 + kSuffix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
      continue;
    }
    const std::string digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
    if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    out.push_back(std::stoll(digits));
  }
  std::sort(out.begin(), out.end());
  return out;
}

BatchRecord Journal::read_batch(int64_t batch) const {
  const std::string path = record_path(batch);
  BatchRecord record = decode_batch_record(read_file(path), path);
  if (record.batch != batch) throw InputError(path + ": holds batch " + std::to_string(record.batch));
  if (!record.part.empty()) record.part = (fs::path(directory_) / record.part).string();
  return record;
}

std::vector<BatchRecord> Journal::read_finished(const SlotRange& batches) const {
  std::vector<BatchRecord> out;
  for (const int64_t b : finished_batches()) {
    if (b < batches.begin || b >= batches.end) continue;
    try {
      BatchRecord record = read_batch(b);
      std::error_code ec;
      if (!record.part.empty() && !fs::exists(record.part, ec)) {
        throw InputError("its fields part " + record.part + " is missing");
      }
      // A part cut short or emptied (a crash before the data reached the disk) has another size.
      if (!record.part.empty() && record.part_bytes >= 0) {
        const int64_t now = tree_bytes(record.part);
        if (now != record.part_bytes) {
          throw InputError("its fields part " + record.part + " holds " + std::to_string(now) + " bytes, " +
                           std::to_string(record.part_bytes) + " when it was written (damaged)");
        }
      }
      out.push_back(std::move(record));
    } catch (const InputError& e) {
      spdlog::warn("journal {}: batch {} will run again: {}", directory_, b, e.what());
    }
  }
  return out;
}

void Journal::write_batch(const BatchRecord& record) const {
  BatchRecord stored = record;
  if (!stored.part.empty() && stored.part_bytes < 0) stored.part_bytes = tree_bytes(stored.part);
  if (!stored.part.empty()) stored.part = fs::path(stored.part).lexically_relative(directory_).generic_string();
  write_text_file(record_path(record.batch), encode_batch_record(stored));
}

void Journal::remove() const {
  remove_tree(directory_);
  std::error_code ec;
  if (fs::exists(directory_, ec)) spdlog::warn("cannot remove the journal {} (delete it by hand)", directory_);
}

Json new_journal_header(const RunPlan& plan, const RunProvenance& provenance, int64_t batches, int threads) {
  const RunSettings& s = plan.settings;
  const Json settings = result_settings_json(s);
  Json inputs = Json::array();
  for (const auto& input : run_inputs(plan)) {
    Json entry = Json::object();
    entry["role"] = input.role;
    entry["path"] = journal_path(input.path);
    const Json stamp = file_stamp(input.path);
    entry["size"] = stamp["size"];
    entry["modified"] = stamp["modified"];
    // Models are small and always hashed: waited for here, so that a resume can compare them.
    entry["sha256"] = input.always_hashed ? Json(provenance.digest(input.path)) : Json(nullptr);
    inputs.push_back(entry);
  }
  Json h = Json::object();
  h["format"] = kFormat;
  h["neuralom_version"] = version_line();
  h["created_utc"] = utc_timestamp();
  h["command"] = s.resume_command;
  h["fingerprint"] = sha256_hex(settings.dump());
  h["settings"] = settings;
  h["shard"] = s.shard.str();
  h["batches"] = batches;
  // Not part of the fingerprint, but LibTorch's CPU reductions depend on the thread count.
  // So do the fused operators and the decoder's node subset (--decode-land), in the last bits.
  h["execution"] = Json{{"device", plan.device.str()},
                        {"threads", threads},
                        {"fused_kernels", s.fused_kernels},
                        {"cuda_fused_kernels", s.cuda_fused_kernels},
                        {"decode_land", s.decode_land}};
  h["fields_extension"] = s.save_fields ? fields_extension(plan) : "";
  h["inputs"] = inputs;
  h["extreme_thresholds"] = nullptr;
  // Thresholds from a file are known now; those from the truth are recorded once computed.
  if (s.extremes && !plan.extremes.thresholds.empty()) record_thresholds(h, plan.extremes);
  return h;
}

bool record_digests(Json& header, const std::map<std::string, std::string>& digests) {
  bool added = false;
  for (auto& entry : header["inputs"]) {
    if (!entry["sha256"].is_null()) continue;
    // Digests are keyed by the path as the plan gives it; the header has it absolute.
    for (const auto& [path, digest] : digests) {
      if (journal_path(path) == entry["path"].get<std::string>()) {
        entry["sha256"] = digest;
        added = true;
      }
    }
  }
  return added;
}

std::map<std::string, std::string> journaled_digests(const Json& header) {
  std::map<std::string, std::string> out;
  for (const auto& entry : header.at("inputs")) {
    if (entry.at("sha256").is_string()) out[entry.at("path").get<std::string>()] = entry.at("sha256").get<std::string>();
  }
  return out;
}

void check_resumable(const Json& journaled, const Json& now, const RunProvenance& provenance,
                     const std::string& output_dir) {
  const std::string prefix = "cannot resume the run in " + output_dir + ": ";
  const std::string hint = "; run it with the settings it began with, or start again with --overwrite";
  check_header_shape(journaled, (fs::path(Journal::directory_of(output_dir)) / kHeaderName).string());
  const std::string key = first_difference(journaled.at("settings"), now.at("settings"));
  if (!key.empty()) {
    const Json& before = journaled["settings"].contains(key) ? journaled["settings"][key] : Json();
    const Json& after = now["settings"].contains(key) ? now["settings"][key] : Json();
    throw ConfigError(prefix + "the setting '" + key + "' differs from the interrupted run's (" + shown(before) +
                      " then, " + shown(after) + " now)" + hint);
  }
  if (journaled.at("shard") != now.at("shard")) {
    throw ConfigError(prefix + "the setting 'shard' differs from the interrupted run's (" +
                      journaled["shard"].get<std::string>() + " then, " + now["shard"].get<std::string>() + " now)" +
                      hint);
  }
  if (text_of(journaled, "neuralom_version") != text_of(now, "neuralom_version")) {
    spdlog::warn("resuming a run begun by {} with {}: the numbers may differ in the last bits",
                 text_of(journaled, "neuralom_version"), text_of(now, "neuralom_version"));
  }
  if (journaled.contains("execution") && now.contains("execution") && journaled["execution"] != now["execution"]) {
    spdlog::warn("resuming a run begun with {} with {}: the fields of the remaining initial conditions may differ "
                 "from an uninterrupted run's in the last bits (LibTorch's sums depend on the device, the number "
                 "of threads and the operators used; pass the --threads and options the run began with)",
                 journaled["execution"].dump(), now["execution"].dump());
  }
  check_inputs_unchanged(journaled.at("inputs"), now.at("inputs"), provenance, prefix, "start again with --overwrite");
  // (Journals of neuralom before 2026-12 recorded no thresholds from a file: nothing to compare.)
  if (recorded_thresholds_differ(journaled, now)) {
    throw InputError(prefix + "the extreme thresholds read from " + text_of(now["settings"], "extreme_thresholds") +
                     " differ from those the run began with; restore the file, or start again with --overwrite");
  }
}

void check_inputs_unchanged(const Json& journaled_inputs, const Json& now_inputs, const RunProvenance& provenance,
                            const std::string& prefix, const std::string& again) {
  for (const auto& before : journaled_inputs) {
    const std::string role = before.at("role").get<std::string>();
    const auto after = std::find_if(now_inputs.begin(), now_inputs.end(),
                                    [&](const Json& e) { return e.at("role") == role; });
    if (after == now_inputs.end()) {
      throw ConfigError(prefix + "this run has no " + role + "; run it with the settings it began with, or " + again);
    }
    const std::string path = before.at("path").get<std::string>();
    if ((*after).at("path") != path) {
      throw ConfigError(prefix + "the " + role + " is " + (*after)["path"].get<std::string>() + " now, " + path +
                        " then; run it with the settings it began with, or " + again);
    }
    const std::string what = prefix + "the " + role + " " + path + " changed since the run began (";
    const std::string digest_then = before.at("sha256").is_string() ? before["sha256"].get<std::string>() : "";
    std::string digest_now;
    if (!digest_then.empty()) {
      try {
        digest_now = provenance.digest(path);  // "" when this run does not hash it (--no-data-hash)
      } catch (const InputError& e) {
        throw InputError(prefix + e.what());
      }
    }
    if (!digest_now.empty()) {
      if (digest_now != digest_then) {
        throw InputError(what + "SHA-256 " + short_digest(digest_then) + " then, " + short_digest(digest_now) +
                         " now); restore it, or " + again);
      }
    } else if (before.at("size") != (*after).at("size") || before.at("modified") != (*after).at("modified")) {
      throw InputError(what + "size or modification time; it was not hashed then or is not hashed now); restore "
                       "it, or " + again);
    }
  }
}

void record_thresholds(Json& header, const ExtremesSpec& spec) {
  Json values = Json::array();
  for (const auto& per_variable : spec.thresholds) {
    Json row = Json::array();
    for (const auto& t : per_variable) {
      row.push_back(Json::array({std::isnan(t.lower) ? Json(nullptr) : Json(t.lower), t.upper}));
    }
    values.push_back(row);
  }
  header["extreme_thresholds"] = Json{{"source", spec.threshold_source}, {"values", values}};
}

bool recorded_thresholds_differ(const Json& a, const Json& b) {
  const auto recorded = [](const Json& h) {
    return h.contains("extreme_thresholds") && !h["extreme_thresholds"].is_null();
  };
  // The values only: a threshold file is an input, compared as one, and the source names it as typed.
  return recorded(a) && recorded(b) && a["extreme_thresholds"].at("values") != b["extreme_thresholds"].at("values");
}

std::optional<std::vector<std::vector<ExtremeThreshold>>> journaled_thresholds(const Json& header,
                                                                               const ExtremesSpec& spec,
                                                                               const std::string& where,
                                                                               std::string& source) {
  if (!header.contains("extreme_thresholds") || header["extreme_thresholds"].is_null()) return std::nullopt;
  const Json& t = header["extreme_thresholds"];
  const auto refuse = [&](const std::string& what) {
    throw InputError(where + ": extreme_thresholds.values " + what + " (the journal is damaged; start again with "
                     "--overwrite)");
  };
  const Json& values = t.at("values");
  if (values.size() != spec.variables.size()) {
    refuse("has " + std::to_string(values.size()) + " rows, but " + std::to_string(spec.variables.size()) +
           " variables are scored");
  }
  std::vector<std::vector<ExtremeThreshold>> out;
  for (std::size_t v = 0; v < values.size(); ++v) {
    const Json& row = values[v];
    if (row.size() != spec.quantiles.size()) {
      refuse("has " + std::to_string(row.size()) + " pairs for " + spec.variables[v].name + ", but " +
             std::to_string(spec.quantiles.size()) + " quantiles are scored");
    }
    auto& per_variable = out.emplace_back();
    for (const auto& pair : row) {
      const bool both = spec.variables[v].tails == ExtremeTails::kBoth;
      if (both && pair.at(0).is_null()) refuse("has no lower threshold for " + spec.variables[v].name + " (both tails)");
      const double lower = pair.at(0).is_null() ? std::numeric_limits<double>::quiet_NaN() : pair.at(0).get<double>();
      per_variable.push_back(ExtremeThreshold{lower, pair.at(1).get<double>()});
    }
  }
  source = t.at("source").get<std::string>();
  return out;
}

}  // namespace neuralom
