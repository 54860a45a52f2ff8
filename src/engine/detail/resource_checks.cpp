// Disk and memory estimates of a run, checked before anything is loaded or computed.
#include "engine/detail/resource_checks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "neuralom/core/errors.h"
#include "neuralom/engine/ic_partition.h"
#include "neuralom/engine/journal.h"
#include "neuralom/io/output_file.h"
#include "neuralom/model/runtime.h"

namespace neuralom::detail {
namespace {

double as_double(int64_t v) { return static_cast<double>(v); }
double as_double(std::size_t v) { return static_cast<double>(v); }

// HDF5's own bytes per chunk (B-tree entry, chunk record) and per file (superblock, headers,
// attributes), generously.
constexpr double kHdf5BytesPerChunk = 128.0;
constexpr double kHdf5BytesPerFile = 1024.0 * 1024.0;
// A metrics row (CSV and JSON together) and the fixed part of run.json.
constexpr double kMetricsBytesPerRow = 320.0;
constexpr double kRunJsonBytes = 64.0 * 1024.0;

}  // namespace

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 6) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.3g %s", bytes, kUnits[unit]);
  return text;
}

ByteEstimate estimate_output_bytes(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  ByteEstimate e;
  std::ostringstream detail;
  if (s.save_fields) {
    // The HDF5 layout holds prediction and truth; NetCDF/Zarr the prediction, and the truth with
    // --save-truth. float32 either way.
    const int datasets = s.format == OutputFormat::kHdf5 || s.save_truth ? 2 : 1;
    // Each batch's fields go to a part in the journal. A shard's parts are its output; any other
    // run then assembles the final file from them and deletes them only after it is complete: two
    // copies at the peak.
    const bool assembled = !s.shard.sharded();
    const std::vector<SlotRange> batches = batch_ranges(static_cast<int64_t>(s.ics.size()), std::max<int64_t>(1, s.batch));
    const SlotRange mine = block_of(static_cast<int64_t>(batches.size()), s.shard.count, s.shard.index);
    int64_t ics = 0;
    for (int64_t b = mine.begin; b < mine.end; ++b) ics += batches[static_cast<std::size_t>(b)].size();
    const double frames = as_double(ics) * as_double(plan.save_leads.size());
    const double fields = datasets * frames * as_double(plan.save_channels.size()) * as_double(plan.height) *
                          as_double(plan.width) * 4.0;
    const double one_copy = fields + datasets * frames * kHdf5BytesPerChunk;
    // neuralom merge assembles the final file from the parts in the shard directories: one copy.
    if (!s.merging) e.bytes += one_copy + as_double(mine.size()) * kHdf5BytesPerFile;
    if (assembled) e.bytes += one_copy + kHdf5BytesPerFile;
    // A resumed run finds the parts of the finished batches on the disk already.
    const int64_t parts = s.resume ? tree_bytes(Journal::directory_of(s.output_dir) + "/parts") : -1;
    if (parts > 0) e.bytes = std::max(e.bytes - as_double(parts), assembled ? one_copy : 0.0);
    detail << "the fields " << datasets << " x " << ics << " ICs x " << plan.save_leads.size() << " leads x "
           << plan.save_channels.size() << " channels x " << plan.height << " x " << plan.width
           << " x 4 bytes = " << format_bytes(fields) << (s.compression > 0 ? " before compression" : "")
           << (s.merging   ? " (the final file, assembled from the shards' parts)"
               : assembled ? ", twice (the journal's per-batch parts, then the final file assembled from them)"
                           : " (shard " + s.shard.str() + "'s parts)")
           << (parts > 0 ? ", less the " + format_bytes(as_double(parts)) + " of parts already written" : "")
           << ", ";
  }
  const double systems = s.baselines ? 3.0 : 1.0;
  const double rows = systems * as_double(s.prediction_length) * (as_double(s.out_variables.size()) + 1.0);
  // metrics.nc (NetCDF/Zarr formats) and the extreme-event tables are smaller than the CSV/JSON pair.
  const double tables = (s.format == OutputFormat::kHdf5 ? 1.0 : 2.0) * (s.extremes ? 2.0 : 1.0);
  const double text = tables * rows * kMetricsBytesPerRow + kRunJsonBytes + 32.0 * as_double(s.ics.size());
  e.bytes += text;
  detail << "metrics and run.json ~" << format_bytes(text);
  e.detail = detail.str();
  return e;
}

ByteEstimate estimate_memory_bytes(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  const double plane = as_double(plan.height) * as_double(plan.width);
  const double n_in = as_double(s.in_channels.size());
  const double n_out = as_double(s.out_channels.size());
  const double batch = as_double(std::max<int64_t>(1, plan.settings.batch));
  const double cache_days = batch * (as_double(s.prefetch) + 3.0);
  const double cache = cache_days * n_in * plane * 4.0;
  // The slices of a day read before normalisation: data and climatology, float64 at most.
  const double raw = 2.0 * n_in * plane * 8.0;
  const double step = batch * (n_in + 2.0 * n_out) * plane * 4.0;
  double atmos = 0;
  if (plan.atmos) {
    atmos = 2.0 * batch * as_double(plan.atmos->in_channels) * as_double(plan.atmos_height) *
            as_double(plan.atmos_width) * 4.0;
  }
  const double fields = s.save_fields ? 2.0 * batch * n_out * plane * 4.0 : 0.0;
  ByteEstimate e;
  e.bytes = cache + raw + step + atmos + fields;
  std::ostringstream detail;
  detail << "the day cache alone holds " << batch << " x (" << s.prefetch << " + 3) days of " << s.in_channels.size()
         << " x " << plan.height << " x " << plan.width << " float32 = " << format_bytes(cache);
  e.detail = detail.str();
  return e;
}

void check_resources(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  const ByteEstimate memory = estimate_memory_bytes(plan);
  plan.memory_bytes = memory.bytes;
  const int64_t usable = usable_memory_bytes();
  if (usable > 0 && memory.bytes > static_cast<double>(usable)) {
    throw InputError("the run needs at least " + format_bytes(memory.bytes) + " of memory for its data (" +
                     memory.detail + "), but this machine allows " + format_bytes(static_cast<double>(usable)) +
                     "; reduce --batch or --prefetch, or check the data's and models' declared sizes");
  }
  if (s.output_dir.empty()) return;
  const ByteEstimate output = estimate_output_bytes(plan);
  plan.output_bytes = output.bytes;
  plan.output_free_bytes = free_space_bytes(s.output_dir);
  if (plan.output_free_bytes < 0 || output.bytes <= static_cast<double>(plan.output_free_bytes)) return;
  const std::string what = "the outputs need about " + format_bytes(output.bytes) + " (" + output.detail + "), but " +
                           s.output_dir + " has " + format_bytes(static_cast<double>(plan.output_free_bytes)) +
                           " free";
  if (s.compression > 0) {
    spdlog::warn("{}; with compression they may fit", what);
    return;
  }
  throw OutputError(what + "; free some space, choose another --output, or save fewer fields "
                           "(--save-leads, --save-channels, --compression)");
}

}  // namespace neuralom::detail
