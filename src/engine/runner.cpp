#include "neuralom/engine/runner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <sstream>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include "detail/json.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/version.h"
#include "neuralom/data/day_cache.h"
#include "neuralom/data/day_reader.h"
#include "neuralom/data/fields.h"
#include "neuralom/data/land_mask.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/sinks.h"
#include "neuralom/forcing/atmosphere_forcing.h"
#include "neuralom/forcing/file_forcing.h"
#include "neuralom/io/output_file.h"
#include "neuralom/io/sha256.h"
#include "neuralom/model/runtime.h"
#include "neuralom/model/stage_pipeline.h"
#include "neuralom/verify/metrics_report.h"
#include "neuralom/verify/results_writer.h"

namespace neuralom {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using detail::Json;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// SHA-256 of the run's files, computed on a background thread while the run goes on.
class FileHashes {
 public:
  void start(const std::vector<std::string>& paths) {
    for (const auto& p : paths) {
      if (futures_.count(p) == 0U) futures_[p] = std::async(std::launch::async, [p] { return sha256_file(p); });
    }
  }
  Json collect() {
    Json out = Json::object();
    for (auto& [path, f] : futures_) {
      try {
        out[path] = f.get();
      } catch (const std::exception& e) {
        out[path] = std::string("unavailable: ") + e.what();
      }
    }
    return out;
  }

 private:
  std::map<std::string, std::future<std::string>> futures_;
};

Json settings_json(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  Json j = Json::object();
  j["mode"] = run_mode_name(s.mode);
  j["data_dir"] = s.data_dir;
  j["ocean_file"] = plan.ocean_file;
  j["land_mask_path"] = s.land_mask_path;
  j["global_means_path"] = s.global_means_path;
  j["global_stds_path"] = s.global_stds_path;
  j["climate_mean_path"] = s.climate_mean_path;
  j["stages"] = s.stages;
  if (plan.atmos) {
    j["atmos_model"] = s.atmos_model;
    j["atmos_file"] = plan.atmos_file;
    j["global_means_path_atmos"] = s.global_means_path_atmos;
    j["global_stds_path_atmos"] = s.global_stds_path_atmos;
    j["atmos_substeps"] = plan.atmos_substeps;
    j["atmos_forcing_channels"] = plan.atmos_forcing_channels;
    j["atmos_time_offset"] = s.atmos_time_offset;
    j["atmos_steps_per_day"] = s.atmos_steps_per_day;
  }
  j["prediction_length"] = s.prediction_length;
  j["ics"] = s.ics;
  j["in_channels"] = s.in_channels;
  j["ocean_channels"] = s.ocean_channels;
  j["atmos_channels"] = s.atmos_channels;
  j["out_channels"] = s.out_channels;
  j["out_variables"] = s.out_variables;
  j["output_dir"] = s.output_dir;
  j["save_fields"] = s.save_fields;
  j["save_channels"] = plan.save_channels;
  j["save_leads"] = plan.save_leads;
  j["compression"] = s.compression;
  j["baselines"] = s.baselines;
  j["batch"] = s.batch;
  j["device"] = plan.device.str();
  j["threads"] = s.threads;
  j["static_cache"] = s.static_cache;
  j["edge_chunk"] = plan.edge_chunk;
  j["prefetch"] = s.prefetch;
  j["on_nonfinite"] = s.warn_on_nonfinite ? "warn" : "error";
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

double peak_resident_gib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream in(line.substr(6));
      double kib = 0;
      in >> kib;
      return kib / (1024.0 * 1024.0);
    }
  }
  return 0.0;
}

RunReport execute_run(const RunPlan& plan, const ExecuteOptions& execute_options) {
  const RunSettings& s = plan.settings;
  const auto t_setup = Clock::now();
  const int threads = configure_threads(s.threads);
  spdlog::info("{} on {} with {} threads; plan:\n{}", run_mode_name(s.mode), plan.device.str(), threads,
               plan.describe());

  FileHashes hashes;
  std::vector<std::string> model_files(s.stages.begin(), s.stages.end());
  if (plan.atmos) model_files.push_back(s.atmos_model);
  hashes.start(model_files);
  if (s.hash_data) {
    std::vector<std::string> data{plan.ocean_file, s.land_mask_path, s.global_means_path, s.global_stds_path,
                                  plan.climatology_file};
    if (plan.atmos) {
      data.insert(data.end(), {plan.atmos_file, s.global_means_path_atmos, s.global_stds_path_atmos});
    }
    hashes.start(data);
  }

  c10::InferenceMode inference_guard;
  const bool cuda = plan.device.is_cuda();

  // Models and the mask.
  ModelOptions model_options;
  model_options.static_cache = s.static_cache;
  model_options.edge_chunk = plan.edge_chunk;
  std::vector<Model> stages;
  for (const auto& path : s.stages) stages.push_back(Model::load(path, plan.device, model_options));
  const at::Tensor mask = read_land_mask(s.land_mask_path, s.out_channels, plan.height, plan.width);
  StagePipeline pipeline(std::move(stages), mask);
  pipeline.set_stage_timing(execute_options.time_stages);

  // Inputs: reader → normaliser → cache (prefetched in the background).
  const NormStats file_stats = load_norm_stats(s.global_means_path, s.global_stds_path, plan.ocean_shape.channels);
  const NormStats out_stats = file_stats.select(s.out_channels);
  auto ocean = std::make_shared<const FieldsFile>(plan.ocean_file);
  auto climatology = std::make_shared<const Climatology>(plan.climatology_file);
  DayReaderSpec spec;
  spec.channels = s.in_channels;
  spec.height = plan.height;
  spec.width = plan.width;
  spec.pin_memory = cuda;
  auto reader = std::make_shared<const DayReader>(ocean, climatology, file_stats, spec);
  const auto capacity = static_cast<std::size_t>(s.batch * (s.prefetch + 3));
  DayCache cache([reader](int64_t day) { return reader->read(day); }, capacity);

  // Forcing: from the file, or from the atmosphere model.
  std::unique_ptr<ForcingSource> forcing;
  if (plan.atmos) {
    const NormStats atmos_stats =
        load_norm_stats(s.global_means_path_atmos, s.global_stds_path_atmos, plan.atmos_shape.channels);
    DayReaderSpec aspec;
    for (int64_t c = 0; c < plan.atmos_shape.channels; ++c) aspec.channels.push_back(c);
    aspec.height = plan.atmos_height;
    aspec.width = plan.atmos_width;
    aspec.time_offset = s.atmos_time_offset;
    aspec.time_stride = s.atmos_steps_per_day;
    aspec.pin_memory = cuda;
    auto atmos_reader = std::make_shared<const DayReader>(std::make_shared<const FieldsFile>(plan.atmos_file), nullptr,
                                                          atmos_stats, aspec);
    forcing = std::make_unique<AtmosphereForcing>(Model::load(s.atmos_model, plan.device, model_options), atmos_reader,
                                                  plan.height, plan.width, plan.atmos_substeps,
                                                  plan.atmos_forcing_channels);
  } else {
    forcing = std::make_unique<FileForcing>(s.atmos_channels, plan.device);
  }

  // Sinks.
  MetricsSink metrics(mask, out_stats, s.out_variables, plan.last_lead(), s.baselines, plan.device);
  std::unique_ptr<ResultsWriter> writer;
  std::unique_ptr<FieldsSink> fields;
  if (s.save_fields) {
    ResultsLayout layout;
    layout.ics = s.ics;
    layout.leads = plan.save_leads;
    layout.channels = plan.save_channels;
    layout.channel_names = s.out_variables;
    layout.ocean_channels = static_cast<int64_t>(s.out_channels.size());
    layout.height = plan.height;
    layout.width = plan.width;
    layout.gzip_level = s.compression;
    writer = std::make_unique<ResultsWriter>(
        plan.results_file, layout,
        std::vector<std::pair<std::string, std::string>>{{"mode", run_mode_name(s.mode)},
                                                          {"ocean_file", plan.ocean_file},
                                                          {"neuralom_version", version_line()}});
    fields = std::make_unique<FieldsSink>(*writer, out_stats, plan.device);
  }
  ProgressSink progress(static_cast<int64_t>(s.ics.size()), s.prediction_length);

  RolloutOptions options;
  options.ics = s.ics;
  options.prediction_length = s.prediction_length;
  options.batch = s.batch;
  options.prefetch_steps = s.prefetch;
  options.warn_on_nonfinite = s.warn_on_nonfinite;
  std::vector<int64_t> ocean_positions = s.ocean_channels;
  Rollout rollout(pipeline, *forcing, cache, ocean_positions, s.out_variables, options);
  rollout.add_sink(&metrics);
  if (fields) rollout.add_sink(fields.get());
  rollout.add_sink(&progress);

  RunReport report;
  report.setup_seconds = since(t_setup);
  report.stats = rollout.run();
  report.metrics = metrics.results();
  report.peak_host_gib = peak_resident_gib();
  report.stage_seconds = pipeline.stage_seconds();

  // Outputs: each appears complete or not at all.
  const fs::path out(s.output_dir);
  if (writer) {
    writer->commit();
    report.files.push_back(plan.results_file);
  }
  write_metrics_csv((out / "metrics.csv").string(), report.metrics);
  report.files.push_back((out / "metrics.csv").string());
  write_metrics_json((out / "metrics.json").string(), report.metrics);
  report.files.push_back((out / "metrics.json").string());

  Json run = Json::object();
  const VersionInfo v = version_info();
  run["neuralom_version"] = v.version;
  run["git_revision"] = v.git_revision;
  run["libtorch_version"] = v.torch_version;
  run["finished_utc"] = utc_now();
  run["settings"] = settings_json(plan);
  Json models = Json::array();
  for (const auto& m : plan.stages) models.push_back(model_json(m));
  run["stages"] = models;
  if (plan.atmos) run["atmosphere"] = model_json(*plan.atmos);
  run["sha256"] = hashes.collect();
  const BlasInfo blas = detect_blas();
  run["blas"] = blas.name;
  run["timings"] = stats_json(report.stats, report.setup_seconds, threads, report.peak_host_gib);
  run["outputs"] = report.files;
  write_text_file((out / "run.json").string(), run.dump(2) + "\n");
  report.files.push_back((out / "run.json").string());
  return report;
}

}  // namespace neuralom
