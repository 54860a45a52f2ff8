#include "neuralom/engine/provenance.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "neuralom/core/version.h"
#include "neuralom/engine/run_settings_json.h"
#include "neuralom/io/json_file.h"
#include "neuralom/io/sha256.h"
#include "neuralom/model/runtime.h"

namespace neuralom {
namespace {

using Json = nlohmann::ordered_json;

/// The settings that decide the results, as the journal records them (run_settings_json.h), with
/// what the plan resolved in place of what was asked (saved channels as indices, the atmosphere's
/// sub-steps, edge chunking), then where the run read and wrote and how it executed.
Json settings_json(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  Json j = result_settings_json(s);
  j["data_dir"] = s.data_dir;
  j["ocean_file"] = plan.ocean_file;
  if (plan.atmos) {
    j["atmos_file"] = plan.atmos_file;
    j["atmos_substeps"] = plan.atmos_substeps;
    j["atmos_forcing_channels"] = plan.atmos_forcing_channels;
  }
  j["save_channels"] = plan.save_channels;
  j["save_leads"] = plan.save_leads;
  j["edge_chunk"] = plan.edge_chunk;
  j["static_cache"] = static_cache_name(plan.static_cache);
  j["decode_land"] = s.decode_land;
  j["fused_kernels"] = s.fused_kernels && (plan.device.is_cpu() || (plan.device.is_cuda() && s.cuda_fused_kernels));
  j["host_cache_mib"] = plan.host_cache_bytes >> 20;
  j["output_dir"] = s.output_dir;
  j["device"] = plan.device.str();
  j["threads"] = s.threads;
  j["prefetch"] = s.prefetch;
  j["shard"] = s.shard.str();
  j["sources"] = s.sources;
  return j;
}

Json model_json(const ModelMetadata& m) {
  Json j = Json::object();
  j["path"] = m.path;
  j["model"] = m.model;
  j["reference_class"] = m.reference_class;
  j["in_channels"] = m.in_channels;
  j["out_channels"] = m.out_channels;
  j["grid"] = std::vector<int64_t>{m.height, m.width};
  j["mesh_level"] = m.mesh_level;
  j["hidden_dim"] = m.hidden_dim;
  j["processor_layers"] = m.processor_layers;
  j["parameters"] = m.parameters;
  j["checkpoint"] = m.checkpoint;
  j["checkpoint_sha256"] = m.checkpoint_sha256;
  j["exporter_version"] = m.exporter_version;
  j["export_torch_version"] = m.torch_version;
  return j;
}

Json stats_json(const RolloutStats& st, double setup_seconds, int threads, double peak_gib) {
  Json j = Json::object();
  j["setup_seconds"] = setup_seconds;
  j["rollout_seconds"] = st.total_seconds;
  j["model_seconds"] = st.model_seconds;
  j["atmosphere_seconds"] = st.forcing_seconds;
  j["io_wait_seconds"] = st.io_wait_seconds;
  j["sink_seconds"] = st.sink_seconds;
  j["day_steps"] = st.day_steps;
  j["ic_days"] = st.ic_days;
  j["seconds_per_day_step"] = st.day_steps > 0 ? st.model_seconds / static_cast<double>(st.day_steps) : 0.0;
  j["simulated_days_per_second"] = st.total_seconds > 0 ? static_cast<double>(st.ic_days) / st.total_seconds : 0.0;
  j["threads"] = threads;
  j["peak_host_gib"] = peak_gib;
  return j;
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<RunInput> run_inputs(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  std::vector<RunInput> inputs;
  for (std::size_t k = 0; k < s.stages.size(); ++k) {
    inputs.push_back({"stage " + std::to_string(k + 1) + " model", s.stages[k], true});
  }
  if (plan.atmos) inputs.push_back({"atmosphere model", s.atmos_model, true});
  inputs.push_back({"ocean data", plan.ocean_file, false});
  inputs.push_back({"land mask", s.land_mask_path, false});
  inputs.push_back({"channel means", s.global_means_path, false});
  inputs.push_back({"channel standard deviations", s.global_stds_path, false});
  inputs.push_back({"climatology", plan.climatology_file, false});
  if (plan.atmos) {
    inputs.push_back({"atmosphere data", plan.atmos_file, false});
    inputs.push_back({"atmosphere means", s.global_means_path_atmos, false});
    inputs.push_back({"atmosphere standard deviations", s.global_stds_path_atmos, false});
  }
  // What the extreme-event counts are measured against.
  if (s.extremes && !s.extreme_thresholds.empty()) inputs.push_back({"extreme thresholds", s.extreme_thresholds, true});
  return inputs;
}

std::string journal_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

RunProvenance::RunProvenance(const RunPlan& plan, const std::map<std::string, std::string>& known) : plan_(plan) {
  for (const auto& input : run_inputs(plan)) {
    if (!input.always_hashed && !plan.settings.hash_data) continue;
    const std::string& path = input.path;
    if (hashes_.count(path) != 0U) continue;
    auto it = known.find(path);
    if (it == known.end()) it = known.find(journal_path(path));
    if (it != known.end()) {
      std::promise<std::string> ready;
      ready.set_value(it->second);
      hashes_[path] = ready.get_future().share();
    } else {
      hashes_[path] = std::async(std::launch::async, [path] { return sha256_file(path); }).share();
    }
  }
}

std::string RunProvenance::digest(const std::string& path) const {
  auto it = hashes_.find(path);
  if (it == hashes_.end()) {
    // Keyed by the path as the plan gives it (relative, if typed so); a journal names it absolute.
    const std::string wanted = journal_path(path);
    it = std::find_if(hashes_.begin(), hashes_.end(),
                      [&](const auto& entry) { return journal_path(entry.first) == wanted; });
  }
  return it == hashes_.end() ? std::string() : it->second.get();
}

std::map<std::string, std::string> RunProvenance::digests(bool wait) const {
  std::map<std::string, std::string> out;
  for (const auto& [path, digest] : hashes_) {
    if (!wait && digest.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
    try {
      out[path] = digest.get();
    } catch (const std::exception&) {
      // Unreadable: recorded as unavailable in run.json, and compared by size and time on resume.
    }
  }
  return out;
}

// The futures' destructors wait for their hashing threads.
RunProvenance::~RunProvenance() = default;

void RunProvenance::write(const std::string& path, const RunReport& report, const Json* extra) {
  Json digests = Json::object();
  for (const auto& [file, digest] : hashes_) {
    try {
      digests[file] = digest.get();
    } catch (const std::exception& e) {
      digests[file] = std::string("unavailable: ") + e.what();
    }
  }

  Json run = Json::object();
  const VersionInfo v = version_info();
  run["neuralom_version"] = v.version;
  run["git_revision"] = v.git_revision;
  run["libtorch_version"] = v.torch_version;
  run["finished_utc"] = utc_timestamp();
  run["settings"] = settings_json(plan_);
  Json models = Json::array();
  for (const auto& m : plan_.stages) models.push_back(model_json(m));
  run["stages"] = models;
  if (plan_.atmos) run["atmosphere"] = model_json(*plan_.atmos);
  run["sha256"] = digests;
  run["blas"] = detect_blas().name;
  run["timings"] = stats_json(report.stats, report.setup_seconds, report.threads, report.peak_host_gib);
  run["outputs"] = report.files;
  if (extra != nullptr) {
    for (const auto& [key, value] : extra->items()) run[key] = value;
  }
  write_json_file(path, run, /*indent=*/2);
}

}  // namespace neuralom
