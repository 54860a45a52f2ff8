#include "neuralom/engine/merge.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/data/land_mask.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/cf_outputs.h"
#include "neuralom/engine/ic_partition.h"
#include "neuralom/engine/journal.h"
#include "neuralom/engine/run_settings_json.h"
#include "neuralom/engine/sinks.h"
#include "neuralom/io/output_file.h"
#include "neuralom/verify/extremes_report.h"
#include "neuralom/verify/metrics_netcdf.h"
#include "neuralom/verify/metrics_report.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string describe_ics(const RunPlan& plan, const SlotRange& slots) {
  const auto& ics = plan.settings.ics;
  const auto first = ics[static_cast<std::size_t>(slots.begin)];
  const auto last = ics[static_cast<std::size_t>(slots.end - 1)];
  return slots.size() == 1 ? "IC " + std::to_string(first) : "ICs " + std::to_string(first) + ".." + std::to_string(last);
}

/// Per-IC pointers to one system's scores, in IC order.
template <typename PerIc, typename Member>
std::vector<const PerIc*> column_of(const std::vector<BatchRecord>& records, std::size_t system, Member member) {
  std::vector<const PerIc*> out;
  for (const auto& r : records) {
    for (const auto& ic : r.ics) out.push_back(&((ic.*member)[system]));
  }
  return out;
}

/// With --overwrite: removes what an earlier run left in the output directory that this one did
/// not write again (its metrics.nc or extreme-event tables, its fields in another format), so that
/// the directory holds one run's outputs, as its run.json lists them.
void remove_stale_outputs(const RunPlan& plan, const std::vector<std::string>& written) {
  const RunSettings& s = plan.settings;
  const fs::path out(s.output_dir);
  const std::string stem = s.mode == RunMode::kSimulate ? "results_simulation" : "results_forecasting";
  const std::vector<std::string> names{"metrics.nc", "extremes.csv", "extremes.json",
                                       stem + ".h5",  stem + ".nc",    stem + ".zarr"};
  for (const std::string& name : names) {
    const std::string path = (out / name).string();
    std::error_code ec;
    if (std::find(written.begin(), written.end(), path) != written.end() || !fs::exists(path, ec)) continue;
    spdlog::info("--overwrite: removing {}, an output of the earlier run that this run does not write", path);
    remove_tree(path);
  }
}

}  // namespace

void check_complete(const RunPlan& plan, std::vector<BatchRecord>& records) {
  const RunSettings& s = plan.settings;
  const std::vector<SlotRange> batches = batch_ranges(static_cast<int64_t>(s.ics.size()), s.batch);
  std::sort(records.begin(), records.end(), [](const BatchRecord& a, const BatchRecord& b) { return a.batch < b.batch; });
  // The same batch twice (a shard run twice): the records are equal; keep one.
  records.erase(std::unique(records.begin(), records.end(),
                            [](const BatchRecord& a, const BatchRecord& b) { return a.batch == b.batch; }),
                records.end());
  std::size_t next = 0;
  for (std::size_t b = 0; b < batches.size(); ++b) {
    if (next >= records.size() || records[next].batch != static_cast<int64_t>(b)) {
      throw InputError("the run is incomplete: batch " + std::to_string(b) + " (" + describe_ics(plan, batches[b]) +
                       ") was never finished");
    }
    const BatchRecord& r = records[next++];
    bool fits = r.slots == batches[b] && static_cast<int64_t>(r.ics.size()) == batches[b].size();
    for (std::size_t i = 0; fits && i < r.ics.size(); ++i) {
      const auto slot = batches[b].begin + static_cast<int64_t>(i);
      fits = r.ics[i].slot == slot && r.ics[i].ic == s.ics[static_cast<std::size_t>(slot)];
    }
    if (!fits) {
      throw InputError("the record of batch " + std::to_string(b) + " does not belong to this run (its slots or ICs "
                       "differ from " + describe_ics(plan, batches[b]) + ")");
    }
  }
  if (next != records.size()) {
    throw InputError("a record of batch " + std::to_string(records[next].batch) + " is beyond the run's " +
                     std::to_string(batches.size()) + " batches");
  }
}

std::vector<MetricsTable> reduce_metrics(const RunPlan& plan, const std::vector<BatchRecord>& records,
                                         const at::Tensor& ocean_mask) {
  const RunSettings& s = plan.settings;
  const NormStats stats =
      load_norm_stats(s.global_means_path, s.global_stds_path, plan.ocean_stats_channels).select(s.out_channels);
  const std::vector<bool> has_ocean = channels_with_ocean(ocean_mask);
  const std::vector<std::string> systems = scored_systems(s.baselines);
  std::vector<MetricsTable> tables;
  for (std::size_t k = 0; k < systems.size(); ++k) {
    tables.push_back(metrics_table(systems[k], s.out_variables, stats.std,
                                   column_of<IcMetrics>(records, k, &IcScores::metrics), has_ocean));
  }
  return tables;
}

std::vector<ExtremesTable> reduce_extremes(const RunPlan& plan, const std::vector<BatchRecord>& records,
                                           const ExtremesSpec& spec) {
  const std::vector<std::string> systems = scored_systems(plan.settings.baselines);
  std::vector<ExtremesTable> tables;
  for (std::size_t k = 0; k < systems.size(); ++k) {
    tables.push_back(extremes_table(systems[k], spec, column_of<IcContingency>(records, k, &IcScores::extremes)));
  }
  return tables;
}

RunReport write_final_outputs(const RunPlan& plan, std::vector<BatchRecord> records, const ExtremesSpec& extremes,
                              RunProvenance& provenance, RunReport report, const Json& run_extra) {
  const RunSettings& s = plan.settings;
  check_complete(plan, records);
  report.stats = total_stats(records);
  report.files.clear();
  const fs::path out(s.output_dir);
  const at::Tensor mask = read_land_mask(s.land_mask_path, s.out_channels, plan.height, plan.width);

  // Outputs: each appears complete or not at all; the fields first, the longest to write.
  if (s.save_fields) {
    auto writer = open_fields_writer(plan, mask, plan.results_file, s.ics);
    spdlog::info("writing {} from {} parts", plan.results_file, records.size());
    for (const auto& r : records) {
      if (r.part.empty()) throw InputError("batch " + std::to_string(r.batch) + " has no fields part");
      std::error_code ec;
      if (!fs::exists(r.part, ec)) {
        throw InputError("the fields of batch " + std::to_string(r.batch) + " (" + describe_ics(plan, r.slots) +
                         "), written by rank " + std::to_string(r.rank) + ", are not in " + r.part +
                         ": with MPI, --output must be on a filesystem that every rank sees");
      }
      writer->append_part(r.part, r.slots.begin);
    }
    writer->commit();
    report.files.push_back(plan.results_file);
  }
  report.metrics = reduce_metrics(plan, records, mask);
  write_metrics_csv((out / "metrics.csv").string(), report.metrics);
  report.files.push_back((out / "metrics.csv").string());
  write_metrics_json((out / "metrics.json").string(), report.metrics);
  report.files.push_back((out / "metrics.json").string());
  if (!plan.metrics_netcdf_file.empty()) {
    write_metrics_netcdf(plan.metrics_netcdf_file, report.metrics, plan.channel_depths, cf_global_attributes(plan));
    report.files.push_back(plan.metrics_netcdf_file);
  }
  if (s.extremes) {
    report.extremes = reduce_extremes(plan, records, extremes);
    write_extremes_csv((out / "extremes.csv").string(), report.extremes);
    report.files.push_back((out / "extremes.csv").string());
    write_extremes_json((out / "extremes.json").string(), report.extremes);
    report.files.push_back((out / "extremes.json").string());
  }
  provenance.write((out / "run.json").string(), report, &run_extra);
  report.files.push_back((out / "run.json").string());
  if (s.overwrite) remove_stale_outputs(plan, report.files);
  return report;
}

RunReport merge_run_directories(const std::vector<std::string>& directories, const std::string& output, bool overwrite) {
  if (directories.empty()) throw ConfigError("neuralom merge: name the directories of the shards to merge");
  std::vector<Journal> journals;
  std::error_code ec;
  for (const auto& dir : directories) {
    if (fs::exists(output, ec) && fs::equivalent(dir, output, ec)) {
      throw ConfigError("neuralom merge: --output " + output + " is one of the shard directories; choose another");
    }
    journals.push_back(Journal::open(dir));
  }
  const Json& first = journals.front().header();
  std::map<std::string, std::string> digests;
  std::vector<BatchRecord> records;
  Json shards = Json::array();
  for (std::size_t i = 0; i < journals.size(); ++i) {
    const Json& h = journals[i].header();
    const std::string key = first_difference(first.at("settings"), h.at("settings"));
    if (!key.empty()) {
      throw InputError("neuralom merge: " + directories[i] + " is not a shard of the same run as " + directories[0] +
                       ": the setting '" + key + "' differs");
    }
    for (const auto& [path, digest] : journaled_digests(h)) {
      const auto [it, inserted] = digests.emplace(path, digest);
      if (!inserted && it->second != digest) {
        throw InputError("neuralom merge: the shards read different versions of " + path + " (SHA-256 " +
                         it->second.substr(0, 12) + "... in one, " + digest.substr(0, 12) + "... in " +
                         directories[i] + ")");
      }
    }
    if (h.at("extreme_thresholds").is_null() != first.at("extreme_thresholds").is_null() ||
        recorded_thresholds_differ(h, first)) {
      throw InputError("neuralom merge: " + directories[i] + " scored extremes with other thresholds than " +
                       directories[0]);
    }
    std::vector<BatchRecord> found = journals[i].read_finished({0, h.at("batches").get<int64_t>()});
    spdlog::info("{}: shard {}, {} finished batches", directories[i], h.at("shard").get<std::string>(), found.size());
    shards.push_back(Json{{"directory", journal_path(directories[i])},
                          {"shard", h.at("shard")},
                          {"batches", found.size()}});
    for (auto& r : found) records.push_back(std::move(r));
  }

  RunSettings settings = settings_from_json(first.at("settings"), journals.front().directory());
  settings.output_dir = output;
  settings.overwrite = overwrite;
  settings.merging = true;  // for the free-space check: the shards' parts are there already
  settings.device = "cpu";  // nothing is computed
  settings.sources = {"neuralom merge of " + std::to_string(directories.size()) + " shard directories"};
  const RunPlan plan = plan_run(settings);
  // A merge refused from here on leaves no --output it created (destroyed after the lock below).
  RefusedOutputCleanup refused(plan);
  const DirectoryLock output_lock(output);
  if (!output_lock.warning().empty()) spdlog::warn("{}", output_lock.warning());

  ExtremesSpec extremes = plan.extremes;
  if (settings.extremes && extremes.thresholds.empty()) {
    const auto thresholds = journaled_thresholds(first, extremes, journals.front().header_path(),
                                                 extremes.threshold_source);
    if (!thresholds) throw InputError(journals.front().directory() + ": the shard recorded no extreme thresholds");
    extremes.thresholds = *thresholds;
  }
  // A missing batch: name the shard that should have run it.
  const std::vector<SlotRange> batches = batch_ranges(static_cast<int64_t>(settings.ics.size()), settings.batch);
  std::set<int64_t> present;
  for (const auto& r : records) present.insert(r.batch);
  for (int64_t b = 0; b < static_cast<int64_t>(batches.size()); ++b) {
    if (present.count(b) != 0U) continue;
    const ShardSpec any = parse_shard_spec(first.at("shard").get<std::string>(), journals.front().directory());
    ShardSpec owner{0, any.count};
    while (!(block_of(static_cast<int64_t>(batches.size()), owner.count, owner.index).end > b)) ++owner.index;
    std::string where = "which is not among the directories given";
    for (std::size_t i = 0; i < journals.size(); ++i) {
      if (journals[i].header().at("shard") == owner.str()) {
        where = "(" + directories[i] + "), which has not finished it: run that shard again with --resume";
      }
    }
    throw InputError("neuralom merge: batch " + std::to_string(b) + " (" + describe_ics(plan, batches[static_cast<std::size_t>(b)]) +
                     ") is missing: it belongs to shard " + owner.str() + ", " + where + ", then merge again");
  }
  // The files merge reads itself (the scores are reduced with the statistics now on disk) must be
  // those the shards read: hashed again and compared with every shard's journal. The others (data,
  // models) are recorded with the digests the shards journaled.
  const std::set<std::string> read_here{"land mask", "channel means", "channel standard deviations",
                                        "extreme thresholds"};
  std::map<std::string, std::string> known = digests;
  for (const auto& input : run_inputs(plan)) {
    if (read_here.count(input.role) != 0U) known.erase(journal_path(input.path));
  }
  RunProvenance provenance(plan, known);
  const Json now = new_journal_header(plan, provenance, static_cast<int64_t>(batches.size()), 1);
  for (std::size_t i = 0; i < journals.size(); ++i) {
    Json checked = Json::array();
    for (const auto& entry : journals[i].header().at("inputs")) {
      if (read_here.count(entry.at("role").get<std::string>()) != 0U) checked.push_back(entry);
    }
    check_inputs_unchanged(checked, now.at("inputs"), provenance, "neuralom merge: " + directories[i] + ": ",
                           "run that shard again with --overwrite");
  }
  if (recorded_thresholds_differ(now, first)) {
    throw InputError("neuralom merge: the thresholds in " + settings.extreme_thresholds + " are not those the shards "
                     "scored extremes with; restore the file, or run the shards again with --overwrite");
  }
  RunReport report;
  const Json extra{{"merged_from", shards}};
  report = write_final_outputs(plan, std::move(records), extremes, provenance, std::move(report), extra);
  refused.dismiss();
  return report;
}

}  // namespace neuralom
