#include "neuralom/engine/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/core/interrupt.h"
#include "neuralom/core/isolated.h"
#include "neuralom/data/day_cache.h"
#include "neuralom/data/day_reader.h"
#include "neuralom/data/fields.h"
#include "neuralom/data/land_mask.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/cf_outputs.h"
#include "neuralom/engine/extreme_thresholds.h"
#include "neuralom/engine/ic_partition.h"
#include "neuralom/engine/journal.h"
#include "neuralom/engine/merge.h"
#include "neuralom/engine/provenance.h"
#include "neuralom/engine/sinks.h"
#include "neuralom/forcing/atmosphere_forcing.h"
#include "neuralom/forcing/file_forcing.h"
#include "neuralom/io/output_file.h"
#include "neuralom/model/host_buffer_cache.h"
#include "neuralom/model/runtime.h"
#include "neuralom/model/stage_pipeline.h"
#include "neuralom/verify/metrics.h"

namespace neuralom {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// What rank 0 decides before the rollout and every rank needs.
struct Job {
  std::vector<int64_t> todo;  // batches this job runs, ascending
  int64_t ics_before = 0;     // ICs of the shard finished by earlier attempts
  int64_t ics_total = 0;      // ICs of the shard
  ExtremesSpec extremes;      // with its thresholds
};

std::string encode_job(const Job& job) {
  Json thresholds = Json::array();
  for (const auto& per_variable : job.extremes.thresholds) {
    Json row = Json::array();
    for (const auto& t : per_variable) row.push_back(Json::array({t.lower, t.upper}));
    thresholds.push_back(row);
  }
  const Json j{{"todo", job.todo},       {"ics_before", job.ics_before},
               {"ics_total", job.ics_total}, {"thresholds", thresholds},
               {"threshold_source", job.extremes.threshold_source}};
  const std::vector<std::uint8_t> cbor = Json::to_cbor(j);  // CBOR keeps NaN thresholds
  return std::string(cbor.begin(), cbor.end());
}

void decode_job(const std::string& bytes, Job& job) {
  const Json j = Json::from_cbor(bytes.begin(), bytes.end());
  job.todo = j.at("todo").get<std::vector<int64_t>>();
  job.ics_before = j.at("ics_before").get<int64_t>();
  job.ics_total = j.at("ics_total").get<int64_t>();
  job.extremes.thresholds.clear();
  for (const auto& row : j.at("thresholds")) {
    auto& per_variable = job.extremes.thresholds.emplace_back();
    for (const auto& t : row) per_variable.push_back(ExtremeThreshold{t.at(0).get<double>(), t.at(1).get<double>()});
  }
  job.extremes.threshold_source = j.at("threshold_source").get<std::string>();
}

/// When the run fails (rank 0): removes a journal that holds no finished batch, since nothing in it
/// could be resumed, and then an output directory this run created if it is empty; a refused model
/// or a disk full in the first batch then leaves the output directory as it was. A journal with
/// finished batches stays for --resume.
class EmptyJournalGuard {
 public:
  EmptyJournalGuard(const std::optional<Journal>& journal, const RunPlan& plan, bool active)
      : journal_(journal), plan_(plan), active_(active), exceptions_(std::uncaught_exceptions()) {}
  EmptyJournalGuard(const EmptyJournalGuard&) = delete;
  EmptyJournalGuard& operator=(const EmptyJournalGuard&) = delete;
  ~EmptyJournalGuard() {
    if (!active_ || std::uncaught_exceptions() <= exceptions_) return;
    try {
      if (journal_ && !journal_->finished_batches().empty()) return;
      if (journal_) journal_->remove();
      remove_created_directories(plan_);
    } catch (...) {  // never throw while an exception is in flight; the journal then stays
    }
  }

 private:
  const std::optional<Journal>& journal_;
  const RunPlan& plan_;
  bool active_;
  int exceptions_;
};

/// Rank 0: a new journal, or the interrupted run's after checking that it can be continued.
Journal open_journal(const RunPlan& plan, const RunProvenance& provenance, int64_t batches, int threads) {
  const RunSettings& s = plan.settings;
  const Json header = new_journal_header(plan, provenance, batches, threads);
  if (Journal::exists_in(s.output_dir) && s.resume) {
    Journal journal = Journal::open(s.output_dir);
    check_resumable(journal.header(), header, provenance, s.output_dir);
    return journal;
  }
  if (s.resume) spdlog::info("--resume: {} holds no journal; starting from the beginning", s.output_dir);
  return Journal::create(s.output_dir, header);
}

/// Says which output variables are land everywhere in the mask: scored NaN, left out of the means.
void warn_unscored_variables(const RunSettings& s, const std::vector<bool>& has_ocean) {
  std::string names;
  for (std::size_t c = 0; c < has_ocean.size(); ++c) {
    if (!has_ocean[c]) names += (names.empty() ? "" : ", ") + s.out_variables[c];
  }
  if (names.empty()) return;
  spdlog::warn("{}: no ocean point for {}: their RMSE/ACC are undefined (n/a, null) and the ALL means leave them out",
               s.land_mask_path, names);
}

std::string describe_batch(const RolloutBatch& batch) {
  if (batch.ics.size() == 1) return std::to_string(batch.ics.front());
  return std::to_string(batch.ics.front()) + "-" + std::to_string(batch.ics.back());
}

/// The per-IC scores of a finished batch, taken from the sinks.
std::vector<IcScores> batch_scores(const RolloutBatch& batch, MetricsSink& metrics, ExtremesSink* extremes) {
  const auto per_system = metrics.take_batch();
  std::vector<std::vector<IcContingency>> counts;
  if (extremes != nullptr) counts = extremes->take_batch();
  std::vector<IcScores> out;
  for (std::size_t b = 0; b < batch.ics.size(); ++b) {
    IcScores ic;
    ic.slot = batch.slots[b];
    ic.ic = batch.ics[b];
    for (const auto& system : per_system) ic.metrics.push_back(system.at(b));
    for (const auto& system : counts) ic.extremes.push_back(system.at(b));
    out.push_back(std::move(ic));
  }
  return out;
}

}  // namespace

RunReport execute_run(const RunPlan& plan, const ExecuteOptions& execute_options) {
  MpiContext solo;
  return execute_run(plan, execute_options, solo);
}

RunReport execute_run(const RunPlan& plan, const ExecuteOptions& execute_options, MpiContext& team) {
  const RunSettings& s = plan.settings;
  const auto t_setup = Clock::now();
  // The inputs were validated: the probing helper (core/isolated.h) is not needed for the run.
  stop_isolated_probes();
  const InterruptGuard interrupt;
  const int threads = configure_threads(s.threads);
  // Large CPU buffers freed in one day-step serve the next (model/host_buffer_cache.h).
  const HostBufferCache host_cache(plan.host_cache_bytes);
  if (team.is_root()) {
    spdlog::info("{} on {} with {} threads{}; plan:\n{}", run_mode_name(s.mode), plan.device.str(), threads,
                 team.size() > 1 ? " per rank, " + std::to_string(team.size()) + " MPI ranks" : std::string(),
                 plan.describe());
  }
  c10::InferenceMode inference_guard;
  const bool cuda = plan.device.is_cuda();
  const std::vector<SlotRange> batches = batch_ranges(static_cast<int64_t>(s.ics.size()), s.batch);
  const SlotRange shard = block_of(static_cast<int64_t>(batches.size()), s.shard.count, s.shard.index);

  // The inputs every rank needs, then rank 0's decisions: the journal, the batches left, the thresholds.
  at::Tensor mask;
  NormStats file_stats;
  NormStats out_stats;
  std::shared_ptr<const FieldsFile> ocean;
  std::shared_ptr<const Climatology> climatology;
  std::unique_ptr<RunProvenance> provenance;  // rank 0
  std::optional<DirectoryLock> output_lock;   // rank 0, for the whole run (released last)
  std::optional<Journal> journal;
  const EmptyJournalGuard journal_guard(journal, plan, team.is_root());
  std::vector<BatchRecord> earlier;           // rank 0: batches finished by earlier attempts
  Job job;
  job.extremes = plan.extremes;
  team.run_collectively([&] {
    mask = read_land_mask(s.land_mask_path, s.out_channels, plan.height, plan.width);
    if (team.is_root()) warn_unscored_variables(s, channels_with_ocean(mask));
    file_stats = load_norm_stats(s.global_means_path, s.global_stds_path, plan.ocean_stats_channels);
    out_stats = file_stats.select(s.out_channels);
    ocean = std::make_shared<const FieldsFile>(plan.ocean_file);
    climatology = std::make_shared<const Climatology>(plan.climatology_file);
    if (!team.is_root()) return;
    output_lock.emplace(s.output_dir);
    if (!output_lock->warning().empty()) spdlog::warn("{}", output_lock->warning());
    provenance = std::make_unique<RunProvenance>(plan);
    journal = open_journal(plan, *provenance, static_cast<int64_t>(batches.size()), threads);
    earlier = journal->read_finished(shard);
    std::vector<bool> finished(batches.size(), false);
    for (const auto& r : earlier) {
      finished[static_cast<std::size_t>(r.batch)] = true;
      job.ics_before += r.slots.size();
    }
    for (int64_t b = shard.begin; b < shard.end; ++b) {
      job.ics_total += batches[static_cast<std::size_t>(b)].size();
      if (!finished[static_cast<std::size_t>(b)]) job.todo.push_back(b);
    }
    if (!earlier.empty()) {
      spdlog::info("resuming {}: {} of {} initial conditions were finished before; {} batches left",
                   journal->directory(), job.ics_before, job.ics_total, job.todo.size());
    }
    if (s.extremes && job.extremes.thresholds.empty()) {
      Json header = journal->header();
      if (const auto kept = journaled_thresholds(header, job.extremes, journal->header_path(),
                                                 job.extremes.threshold_source)) {
        job.extremes.thresholds = *kept;
      } else {
        job.extremes.thresholds = thresholds_from_truth(plan, ocean, climatology, file_stats, out_stats, mask,
                                                        job.extremes.threshold_source);
        record_thresholds(header, job.extremes);
        journal->write_header(std::move(header));
      }
    }
  });
  std::string job_bytes = team.is_root() ? encode_job(job) : std::string();
  team.broadcast(job_bytes);
  if (!team.is_root()) decode_job(job_bytes, job);

  // Wiring: models, reader → normaliser → cache, forcing, sinks, rollout.
  std::unique_ptr<StagePipeline> pipeline;
  std::unique_ptr<DayCache> cache;
  std::unique_ptr<ForcingSource> forcing;
  std::unique_ptr<MetricsSink> metrics;
  std::unique_ptr<DayCache> saved_climatology;
  std::unique_ptr<FieldsSink> fields;
  std::unique_ptr<ExtremesSink> extremes;
  ProgressSink progress(job.ics_total - job.ics_before, s.prediction_length, team.size());
  std::unique_ptr<Rollout> rollout;
  int64_t ics_done = 0;  // by this job, all ranks, as of the last round
  team.run_collectively([&] {
    if (!team.is_root()) journal = Journal::open(s.output_dir);
    ModelOptions model_options;
    model_options.static_cache = plan.static_cache;
    model_options.edge_chunk = plan.edge_chunk;
    model_options.precision = s.precision;
    model_options.fused_kernels = s.fused_kernels;
    model_options.cuda_fused_kernels = s.cuda_fused_kernels;
    apply_precision(s.precision);
    if (s.deterministic) use_deterministic_algorithms();
    // The ocean stages compute outputs only where some channel is ocean; the atmosphere model
    // (below) forces the whole grid.
    ModelOptions stage_options = model_options;
    if (!s.decode_land) {
      stage_options.output_nodes = ocean_nodes(mask);
      const int64_t computed = stage_options.output_nodes.numel();
      const int64_t all = plan.height * plan.width;
      if (team.is_root() && computed < all) {
        spdlog::info("ocean models: decoder at {} of {} grid points (the other {} are land in every channel; "
                     "--decode-land computes them too)",
                     computed, all, all - computed);
      }
    }
    std::vector<Model> stages;
    for (const auto& path : s.stages) stages.push_back(Model::load(path, plan.device, stage_options));
    pipeline = std::make_unique<StagePipeline>(std::move(stages), mask);
    if (s.cuda_graphs) pipeline->enable_cuda_graphs();
    pipeline->set_stage_timing(execute_options.time_stages);  // off with CUDA graphs: timed as a whole

    DayReaderSpec spec;
    spec.channels = s.in_channels;
    spec.height = plan.height;
    spec.width = plan.width;
    spec.pin_memory = cuda;
    auto reader = std::make_shared<const DayReader>(ocean, climatology, file_stats, spec);
    const auto capacity = static_cast<std::size_t>(s.batch * (s.prefetch + 3));
    cache = std::make_unique<DayCache>([reader](int64_t day) { return reader->read(day); }, capacity);

    if (plan.atmos) {
      const NormStats atmos_stats =
          load_norm_stats(s.global_means_path_atmos, s.global_stds_path_atmos, plan.atmos_stats_channels);
      DayReaderSpec aspec;
      aspec.channels = plan.atmos_stats_channels;
      aspec.height = plan.atmos_height;
      aspec.width = plan.atmos_width;
      aspec.time_offset = s.atmos_time_offset;
      aspec.time_stride = s.atmos_steps_per_day;
      aspec.pin_memory = cuda;
      auto atmos_reader = std::make_shared<const DayReader>(std::make_shared<const FieldsFile>(plan.atmos_file),
                                                            nullptr, atmos_stats, aspec);
      forcing = std::make_unique<AtmosphereForcing>(Model::load(s.atmos_model, plan.device, model_options),
                                                    atmos_reader, plan.height, plan.width, plan.atmos_substeps,
                                                    plan.atmos_forcing_channels, s.warn_on_nonfinite);
    } else {
      forcing = std::make_unique<FileForcing>(s.atmos_channels, plan.device);
    }

    metrics = std::make_unique<MetricsSink>(mask, out_stats, s.out_variables, plan.last_lead(), s.baselines,
                                            plan.device);
    if (s.save_fields) {
      // Each batch's fields go to a part in the journal; the final file is assembled from them.
      saved_climatology = open_saved_climatology(plan, climatology);
      const Journal* parts = &*journal;
      const std::string extension = fields_extension(plan);
      fields = std::make_unique<FieldsSink>(
          [&plan, &mask, parts, extension, batch = s.batch](const RolloutBatch& b) {
            return open_fields_writer(plan, mask, parts->part_path(b.slots.front() / batch, extension), b.ics);
          },
          out_stats, plan.device, saved_climatology.get());
    }
    if (s.extremes) {
      extremes = std::make_unique<ExtremesSink>(job.extremes, mask, out_stats, plan.last_lead(), s.baselines,
                                                plan.device);
    }

    RolloutOptions options;
    options.ics = s.ics;
    options.prediction_length = s.prediction_length;
    options.batch = s.batch;
    options.prefetch_steps = s.prefetch;
    options.warn_on_nonfinite = s.warn_on_nonfinite;
    options.between_steps = [&](const RolloutBatch& batch, int64_t lead) {
      const int signal = interrupt.signal_received();
      if (signal == 0) return;
      throw Interrupted("interrupted by " + signal_name(signal) + " at day " + std::to_string(lead) + " of IC " +
                            describe_batch(batch) + ": " + std::to_string(job.ics_before + ics_done) + " of " +
                            std::to_string(job.ics_total) + " initial conditions are finished and kept in " +
                            Journal::directory_of(s.output_dir) + "; continue the run with\n  " + s.resume_command,
                        signal);
    };
    rollout = std::make_unique<Rollout>(*pipeline, *forcing, *cache, s.ocean_channels, s.out_variables,
                                        std::move(options));
    rollout->add_sink(metrics.get());
    if (fields) rollout->add_sink(fields.get());
    if (extremes) rollout->add_sink(extremes.get());
    rollout->add_sink(&progress);
  });

  RunReport report;
  report.threads = threads;
  report.setup_seconds = since(t_setup);
  if (execute_options.before_rollout) execute_options.before_rollout();

  // The rollout: a contiguous block of the remaining batches per rank, in rounds of one batch each.
  const std::vector<int64_t> mine = block_items(job.todo, team.size(), team.rank());
  const int64_t rounds = block_of(static_cast<int64_t>(job.todo.size()), team.size(), 0).size();
  std::vector<BatchRecord> done;
  for (int64_t round = 0; round < rounds; ++round) {
    int64_t finished_now = 0;
    std::string last = "(none on rank 0)";
    team.run_collectively([&] {
      if (round >= static_cast<int64_t>(mine.size())) return;
      const int64_t b = mine[static_cast<std::size_t>(round)];
      const SlotRange& slots = batches[static_cast<std::size_t>(b)];
      const RolloutBatch batch = Rollout::batch_of(s.ics, slots.begin, slots.end);
      BatchRecord record;
      record.batch = b;
      record.slots = slots;
      record.rank = team.rank();
      record.stats = rollout->run_batch(batch);  // the fields part is committed at the batch's end
      report.step_seconds.insert(report.step_seconds.end(), record.stats.step_seconds.begin(),
                                 record.stats.step_seconds.end());
      record.ics = batch_scores(batch, *metrics, extremes.get());
      if (s.save_fields) record.part = journal->part_path(b, fields_extension(plan));
      journal->write_batch(record);
      finished_now = slots.size();
      last = describe_batch(batch);
      done.push_back(std::move(record));
      if (team.is_root()) {
        Json header = journal->header();
        if (record_digests(header, provenance->ready_digests())) journal->write_header(std::move(header));
      }
    });
    ics_done += team.sum(finished_now);
    if (team.is_root()) progress.finished(ics_done, last);
  }
  report.peak_host_gib = peak_resident_gib();
  if (host_cache.active()) {
    const HostBufferCacheStats reuse = HostBufferCache::stats();
    spdlog::debug("host buffer cache: {} reuses, {} new blocks, at most {:.2f} GiB held unused", reuse.hits,
                  reuse.misses, static_cast<double>(reuse.peak_held_bytes) / (1024.0 * 1024.0 * 1024.0));
  }
  if (pipeline) report.stage_seconds = pipeline->stage_seconds();

  // Rank 0 gathers every rank's records and writes the final outputs (a shard: its journal is its output).
  const std::vector<std::string> gathered = team.gather(encode_batch_records(done));
  team.run_collectively([&] {
    if (!team.is_root()) return;
    std::vector<BatchRecord> records = std::move(earlier);
    for (std::size_t r = 0; r < gathered.size(); ++r) {
      for (auto& record : decode_batch_records(gathered[r], "the records of rank " + std::to_string(r))) {
        records.push_back(std::move(record));
      }
    }
    if (s.shard.sharded()) {
      // The journal is this shard's output: it gets every digest, for `neuralom merge` to compare.
      Json header = journal->header();
      if (record_digests(header, provenance->all_digests())) journal->write_header(std::move(header));
      std::sort(records.begin(), records.end(),
                [](const BatchRecord& a, const BatchRecord& b) { return a.batch < b.batch; });
      report.stats = total_stats(records);
      report.metrics = reduce_metrics(plan, records, mask);
      report.files = {journal->directory()};
      return;
    }
    const Json extra{{"parallel", Json{{"mpi_ranks", team.size()},
                                       {"batches", batches.size()},
                                       {"batches_run_now", job.todo.size()},
                                       {"resumed", job.ics_before > 0}}}};
    report = write_final_outputs(plan, std::move(records), job.extremes, *provenance, std::move(report), extra);
    journal->remove();
  });
  return report;
}

}  // namespace neuralom
