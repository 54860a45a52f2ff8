#include "neuralom/engine/runner.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/version.h"
#include "neuralom/data/day_cache.h"
#include "neuralom/data/day_reader.h"
#include "neuralom/data/fields.h"
#include "neuralom/data/land_mask.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/cf_outputs.h"
#include "neuralom/engine/extreme_thresholds.h"
#include "neuralom/engine/provenance.h"
#include "neuralom/engine/sinks.h"
#include "neuralom/forcing/atmosphere_forcing.h"
#include "neuralom/forcing/file_forcing.h"
#include "neuralom/model/runtime.h"
#include "neuralom/model/stage_pipeline.h"
#include "neuralom/verify/extremes_report.h"
#include "neuralom/verify/metrics_netcdf.h"
#include "neuralom/verify/metrics_report.h"

namespace neuralom {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

RunReport execute_run(const RunPlan& plan, const ExecuteOptions& execute_options) {
  const RunSettings& s = plan.settings;
  const auto t_setup = Clock::now();
  const int threads = configure_threads(s.threads);
  spdlog::info("{} on {} with {} threads; plan:\n{}", run_mode_name(s.mode), plan.device.str(), threads,
               plan.describe());

  RunProvenance provenance(plan);

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
  FieldsOutput fields_output;
  std::unique_ptr<FieldsSink> fields;
  if (s.save_fields) {
    fields_output = open_fields_output(plan, mask, climatology);
    fields = std::make_unique<FieldsSink>(*fields_output.writer, out_stats, plan.device, fields_output.climatology.get());
  }
  std::unique_ptr<ExtremesSink> extremes;
  if (s.extremes) {
    ExtremesSpec scored = plan.extremes;
    if (scored.thresholds.empty()) {
      scored.thresholds =
          thresholds_from_truth(plan, ocean, climatology, file_stats, out_stats, mask, scored.threshold_source);
    }
    extremes = std::make_unique<ExtremesSink>(scored, mask, out_stats, plan.last_lead(), s.baselines, plan.device);
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
  if (extremes) rollout.add_sink(extremes.get());
  rollout.add_sink(&progress);

  RunReport report;
  report.threads = threads;
  report.setup_seconds = since(t_setup);
  report.stats = rollout.run();
  report.metrics = metrics.results();
  report.peak_host_gib = peak_resident_gib();
  report.stage_seconds = pipeline.stage_seconds();

  // Outputs: each appears complete or not at all.
  const fs::path out(s.output_dir);
  if (fields_output.writer) {
    fields_output.writer->commit();
    report.files.push_back(plan.results_file);
  }
  write_metrics_csv((out / "metrics.csv").string(), report.metrics);
  report.files.push_back((out / "metrics.csv").string());
  write_metrics_json((out / "metrics.json").string(), report.metrics);
  report.files.push_back((out / "metrics.json").string());
  if (!plan.metrics_netcdf_file.empty()) {
    write_metrics_netcdf(plan.metrics_netcdf_file, report.metrics, plan.channel_depths, cf_global_attributes(plan));
    report.files.push_back(plan.metrics_netcdf_file);
  }
  if (extremes) {
    report.extremes = extremes->results();
    write_extremes_csv((out / "extremes.csv").string(), report.extremes);
    report.files.push_back((out / "extremes.csv").string());
    write_extremes_json((out / "extremes.json").string(), report.extremes);
    report.files.push_back((out / "extremes.json").string());
  }

  provenance.write((out / "run.json").string(), report);
  report.files.push_back((out / "run.json").string());
  return report;
}

}  // namespace neuralom
