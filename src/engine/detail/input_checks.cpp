// Validation of a run's inputs before compute: the files, datasets, shapes, statistics,
// climatology, mask and models that plan_run() checks against each other.
#include "engine/detail/input_checks.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/core/isolated.h"
#include "neuralom/data/fields.h"
#include "neuralom/data/stats.h"
#include "neuralom/io/hdf5_file.h"
#include "neuralom/io/npy.h"

namespace neuralom::detail {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

int64_t max_of(const std::vector<int64_t>& v) { return v.empty() ? -1 : *std::max_element(v.begin(), v.end()); }
int64_t min_of(const std::vector<int64_t>& v) { return v.empty() ? -1 : *std::min_element(v.begin(), v.end()); }

/// What a probe reads: at most `height` x `width` of channels [first_channel, first_channel +
/// channels) at each time index in `times`, besides channel 0 of the first and last snapshot.
/// Indices outside the file are clamped to it, so one probe serves files of different shapes.
struct ProbeRequest {
  int64_t height = 1;
  int64_t width = 1;
  int64_t first_channel = 0;
  int64_t channels = 1;
  std::vector<int64_t> times;
};

std::string encode(const ProbeRequest& r) {
  std::ostringstream out;
  out << r.height << ' ' << r.width << ' ' << r.first_channel << ' ' << r.channels;
  for (const auto t : r.times) out << ' ' << t;
  return out.str();
}

ProbeRequest decode(const std::string& text) {
  ProbeRequest r;
  std::istringstream in(text);
  in >> r.height >> r.width >> r.first_channel >> r.channels;
  for (int64_t t = 0; in >> t;) r.times.push_back(t);
  return r;
}

/// Elements a probe reads in one block; a larger span is read one channel at a time.
constexpr int64_t kProbeBlockElements = int64_t{1} << 27;  // 512 MB of float32

/// Opens the fields file `path` and reads what `request` names, as the runner does: in one block
/// (HDF5 takes other paths for a selection that covers whole chunks, so a chunk can fail in one and
/// not in the other), or one channel at a time for a span over kProbeBlockElements. Throws InputError.
void read_sample(const std::string& path, const ProbeRequest& request) {
  const FieldsFile f(path);
  const FieldsShape shape = f.shape();
  if (shape.times < 1 || shape.channels < 1 || shape.rows < 1 || shape.cols < 1) return;
  const int64_t rows = std::min(shape.rows, std::max<int64_t>(request.height, 1));
  const int64_t cols = std::min(shape.cols, std::max<int64_t>(request.width, 1));
  const auto clamp = [](int64_t v, int64_t hi) { return std::clamp<int64_t>(v, 0, hi - 1); };
  (void)f.read(0, 0, 1, rows, cols);
  (void)f.read(shape.times - 1, 0, 1, rows, cols);
  const int64_t c0 = clamp(request.first_channel, shape.channels);
  const int64_t span = std::min(std::max<int64_t>(request.channels, 1), shape.channels - c0);
  std::set<int64_t> times;
  for (const auto t : request.times) times.insert(clamp(t, shape.times));
  const bool one_block = span <= kProbeBlockElements / rows / cols;
  for (const auto t : times) {
    if (one_block) {
      (void)f.read(t, c0, span, rows, cols);
    } else {
      for (int64_t c = c0; c < c0 + span; ++c) (void)f.read(t, c, 1, rows, cols);
    }
  }
}

/// In the helper process: read_sample() of the encoded request.
void probe_fields_file(const std::string& path, const std::string& request_text) {
  read_sample(path, decode(request_text));
}

/// Does read_sample() of `path` in a helper process first: a corrupt file that crashes the HDF5
/// library is then refused with an InputError naming it instead of crashing the run
/// (core/isolated.h). The caller does the same reads itself afterwards (check_sample), so that
/// a file whose first days cannot be read is refused before the models are loaded, not after.
void probe_fields_file_isolated(const std::string& path, const ProbeRequest& request) {
  run_isolated_probes({path}, probe_fields_file, encode(request));
}

/// read_sample() here, with what was being checked in the message.
void check_sample(const std::string& path, const ProbeRequest& request, const std::string& what) {
  try {
    read_sample(path, request);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + " (while reading " + what + ", before the run)");
  }
}

/// `a + b`, or the largest int64 where that overflows (the probe clamps it to the file).
int64_t saturating_add(int64_t a, int64_t b) {
  int64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? kMaxInt64 : sum;
}

void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (path.empty()) throw ConfigError(what + ": no path given");
  if (!fs::exists(path, ec)) throw InputError(what + " not found: " + path);
  if (fs::is_directory(path, ec)) throw InputError(what + " " + path + " is a directory, expected a file");
}

/// test/<year>.h5, an explicit file, or the first .h5 in the directory by name (the reference's rule).
std::string resolve_yearly_file(const std::string& explicit_file, const std::string& dir, const std::string& year,
                                const std::string& what) {
  if (!explicit_file.empty()) {
    require_file(explicit_file, what);
    return explicit_file;
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw InputError(what + ": directory " + dir + " not found (expected <data-dir>/" + fs::path(dir).filename().string() +
                     "/<year>.h5; set --data-dir)");
  }
  if (!year.empty()) {
    const std::string path = (fs::path(dir) / (year + ".h5")).string();
    if (!fs::exists(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".h5") found.push_back(entry.path().stem().string());
      }
      std::sort(found.begin(), found.end());
      std::string list;
      for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
      throw InputError(what + " for year " + year + " not found: " + path +
                       (list.empty() ? " (the directory has no .h5 files)" : " (years available: " + list + ")"));
    }
    return path;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".h5") files.push_back(entry.path().string());
  }
  if (files.empty()) throw InputError(what + ": no .h5 file in " + dir);
  std::sort(files.begin(), files.end());
  return files.front();
}

/// The atmosphere file: --atmos-file, else <atmos-dir>/<year>.h5 for --year, else the file named
/// as the ocean file when there is one (the same year), else the first by name, as the reference
/// takes (its yr = 0 of the sorted directory, whatever the ocean file is).
std::string resolve_atmos_file(const RunSettings& s, const std::string& ocean_file) {
  const std::string what = "atmosphere data file";
  if (!s.atmos_file.empty() || !s.year.empty()) {
    return resolve_yearly_file(s.atmos_file, s.test_data_path_atmos, s.year, what);
  }
  std::error_code ec;
  const fs::path same_year = fs::path(s.test_data_path_atmos) / fs::path(ocean_file).filename();
  if (fs::is_regular_file(same_year, ec)) return same_year.string();
  const std::string first = resolve_yearly_file("", s.test_data_path_atmos, "", what);
  spdlog::info("no {} named as the ocean file {}: using the first in {}, {} (--atmos-file or --year to choose)",
               what, fs::path(ocean_file).filename().string(), s.test_data_path_atmos,
               fs::path(first).filename().string());
  return first;
}

/// A missing .pt next to a reference checkpoint gets the export command in the message.
ModelMetadata inspect_model(const std::string& path, const std::string& kind, const std::string& role) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    const fs::path p(path);
    for (const char* ext : {".tar", ".pth", ".pt.tar"}) {
      fs::path sibling = p;
      sibling.replace_extension(ext);
      if (fs::exists(sibling, ec)) {
        throw ModelError(role + " model not found: " + path + ". A reference checkpoint is next to it; export it with\n  " +
                         export_command(kind, sibling.string(), path));
      }
    }
    throw ModelError(role + " model not found: " + path + " (export one with scripts/export_torchscript.py)");
  }
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".tar" || ext == ".pth") {
    throw ModelError(role + " model " + path + " is a reference checkpoint, not an exported model; export it with\n  " +
                     export_command(kind, path, fs::path(path).replace_extension(".pt").string()));
  }
  return read_model_metadata(path);
}

/// Stage k's role and expected kind.
std::string stage_kind(std::size_t k) { return k == 0 ? "stage1" : "stage2"; }

void check_model_kind(const ModelMetadata& m, const std::string& expected, const std::string& role) {
  const bool ok = expected == "atmos" ? m.model == "atmos" : (m.model == "stage1" || m.model == "stage2");
  if (!ok) {
    throw ModelError(m.path + ": is a '" + m.model + "' model (" + m.reference_class + "), but it was given as the " +
                     role + " model");
  }
}

void check_grid_against(const std::string& what, const FieldsShape& shape, int64_t height, int64_t width,
                        const std::string& model_path) {
  if (shape.rows < height || shape.cols != width) {
    std::ostringstream s;
    s << what << " has shape " << shape.shape_string() << ": its grid is " << shape.rows << "x" << shape.cols
      << ", but the model " << model_path << " expects " << height << "x" << width << " (rows 0.." << height - 1
      << " are used; the reference's files have one extra row, " << height + 1 << "x" << width << ")";
    throw ModelError(s.str());
  }
}

}  // namespace

std::string join(const std::vector<int64_t>& v, const char* sep) {
  std::ostringstream s;
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? sep : "") << v[i];
  return s.str();
}

/// The stage chain and its fit to the configured channels.
void validate_stages(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (s.stages.empty()) {
    throw ConfigError("no stage models given: pass --stages stage1.pt,stage2.pt (stage 1 first) or a configuration "
                      "with `stages`");
  }
  for (std::size_t k = 0; k < s.stages.size(); ++k) {
    const std::string role = "stage " + std::to_string(k + 1);
    plan.stages.push_back(inspect_model(s.stages[k], stage_kind(k), role));
    check_model_kind(plan.stages.back(), stage_kind(k), role);
  }
  const ModelMetadata& first = plan.stages.front();
  plan.height = first.height;
  plan.width = first.width;
  const auto n_ocean = static_cast<int64_t>(s.ocean_channels.size());
  const auto n_forcing = static_cast<int64_t>(s.atmos_channels.size());
  if (first.out_channels != n_ocean || first.in_channels != n_ocean + 2 * n_forcing) {
    std::ostringstream m;
    m << first.path << ": stage 1 maps " << first.in_channels << " -> " << first.out_channels
      << " channels, but the run has " << n_ocean << " ocean channels and " << n_forcing
      << " forcing channels per day (expected " << n_ocean + 2 * n_forcing << " -> " << n_ocean
      << " = ocean + forcing(t) + forcing(t+1)); check ocean_channels / atmos_channels";
    throw ModelError(m.str());
  }
  for (std::size_t k = 1; k < plan.stages.size(); ++k) {
    const ModelMetadata& m = plan.stages[k];
    if (m.in_channels != n_ocean || m.out_channels != n_ocean) {
      throw ModelError(m.path + ": stage " + std::to_string(k + 1) + " maps " + std::to_string(m.in_channels) + " -> " +
                       std::to_string(m.out_channels) + " channels, expected " + std::to_string(n_ocean) + " -> " +
                       std::to_string(n_ocean) + " (a correction stage works on the ocean state)");
    }
    if (m.height != plan.height || m.width != plan.width) {
      throw ModelError(m.path + ": grid " + std::to_string(m.height) + "x" + std::to_string(m.width) +
                       " differs from stage 1's " + std::to_string(plan.height) + "x" + std::to_string(plan.width) +
                       " (" + first.path + ")");
    }
  }
}

/// Channel lists: consistent with each other and with the names.
void validate_channels(const RunSettings& s) {
  const auto n_in = static_cast<int64_t>(s.in_channels.size());
  auto check_positions = [&](const std::vector<int64_t>& v, const char* key) {
    for (const auto p : v) {
      if (p < 0 || p >= n_in) {
        throw ConfigError(std::string(key) + ": position " + std::to_string(p) + " is outside the " +
                          std::to_string(n_in) + " channels read (in_channels)");
      }
    }
  };
  check_positions(s.ocean_channels, "ocean_channels");
  check_positions(s.atmos_channels, "atmos_channels");
  if (s.ocean_channels.empty()) throw ConfigError("ocean_channels is empty: the models need an ocean state");
  if (s.atmos_channels.empty()) {
    throw ConfigError("atmos_channels is empty: stage 1 takes forcing channels (the reference's are 93:97)");
  }
  if (s.out_channels.size() != s.ocean_channels.size()) {
    throw ConfigError("out_channels has " + std::to_string(s.out_channels.size()) + " channels but ocean_channels " +
                      std::to_string(s.ocean_channels.size()) + "; the model's outputs are the ocean state");
  }
  for (std::size_t i = 0; i < s.out_channels.size(); ++i) {
    const auto file_channel = s.in_channels[static_cast<std::size_t>(s.ocean_channels[i])];
    if (s.out_channels[i] != file_channel) {
      throw ConfigError("out_channels[" + std::to_string(i) + "] = " + std::to_string(s.out_channels[i]) +
                        " but ocean channel " + std::to_string(i) + " is file channel " + std::to_string(file_channel) +
                        "; out_channels must name the file channels of the ocean state");
    }
  }
  if (s.out_variables.size() != s.out_channels.size()) {
    throw ConfigError("out_variables has " + std::to_string(s.out_variables.size()) + " names for " +
                      std::to_string(s.out_channels.size()) + " output channels");
  }
}

void validate_ocean_data(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  plan.ocean_file = resolve_yearly_file(s.test_file, s.test_data_path, s.year, "ocean data file");
  // The first day the runner reads (the first initial condition) and the last one a prediction
  // needs, over the span of channels the day reader reads (data/day_reader.cpp).
  ProbeRequest request;
  request.height = plan.height;
  request.width = plan.width;
  if (!s.in_channels.empty()) {
    const auto [lo, hi] = std::minmax_element(s.in_channels.begin(), s.in_channels.end());
    int64_t extent = 0;
    request.first_channel = *lo;
    request.channels = __builtin_sub_overflow(*hi, *lo, &extent) ? kMaxInt64 : saturating_add(extent, 1);
  }
  if (!s.ics.empty()) {
    const auto [first, last] = std::minmax_element(s.ics.begin(), s.ics.end());
    request.times = {*first, saturating_add(*last, std::max<int64_t>(s.prediction_length, 1) - 1)};
  }
  // The land mask as data/land_mask.cpp reads it: one block of the channels up to the last output.
  ProbeRequest mask_request;
  mask_request.height = plan.height;
  mask_request.width = plan.width;
  mask_request.channels = max_of(s.out_channels) + 1;
  mask_request.times = {0};
  probe_fields_file_isolated(plan.ocean_file, request);
  std::error_code ec;
  if (fs::is_regular_file(s.land_mask_path, ec)) probe_fields_file_isolated(s.land_mask_path, mask_request);
  const FieldsFile file(plan.ocean_file);
  plan.ocean_shape = file.shape();
  plan.ocean_dtype = file.dtype();
  const std::string where = plan.ocean_file + ":/fields";
  if (plan.ocean_shape.channels <= max_of(s.in_channels)) {
    throw InputError(where + " has shape " + plan.ocean_shape.shape_string() + ": " +
                     std::to_string(plan.ocean_shape.channels) + " channels, but in_channels needs channel " +
                     std::to_string(max_of(s.in_channels)) + " (the reference layout has 97)");
  }
  check_grid_against(where, plan.ocean_shape, plan.height, plan.width, plan.stages.front().path);

  // Statistics of the channels read and written, indexed by file channel as the reference does
  // (they may hold more channels than the file).
  std::set<int64_t> used(s.in_channels.begin(), s.in_channels.end());
  used.insert(s.out_channels.begin(), s.out_channels.end());
  plan.ocean_stats_channels.assign(used.begin(), used.end());
  const NormStats stats = load_norm_stats(s.global_means_path, s.global_stds_path, plan.ocean_stats_channels);
  if (stats.channels() != plan.ocean_shape.channels) {
    spdlog::info("the statistics {} hold {} channels, the data {} {}: they are matched by channel number",
                 s.global_means_path, stats.channels(), where, plan.ocean_shape.channels);
  }

  // Climatology: a day-of-year stack or one field, covering the channels and grid used.
  require_file(s.climate_mean_path, "climatology");
  plan.climatology_file = s.climate_mean_path;
  const Climatology clim(s.climate_mean_path);
  plan.climatology_shape = clim.shape();
  plan.climatology_dtype = clim.dtype();
  const FieldsShape& c = plan.climatology_shape;
  if (c.channels != plan.ocean_shape.channels || c.rows < plan.height || c.cols != plan.width) {
    throw InputError(s.climate_mean_path + ": shape " + read_npy_info(s.climate_mean_path).shape_string() +
                     " does not match the data " + where + " " + plan.ocean_shape.shape_string() +
                     " (expected [days, " + std::to_string(plan.ocean_shape.channels) + ", >=" +
                     std::to_string(plan.height) + ", " + std::to_string(plan.width) + "] or one field)");
  }
  if (c.times < 1) {
    throw InputError(s.climate_mean_path + ": shape " + read_npy_info(s.climate_mean_path).shape_string() +
                     " holds no days (expected [days >= 1, " + std::to_string(plan.ocean_shape.channels) + ", >=" +
                     std::to_string(plan.height) + ", " + std::to_string(plan.width) + "] or one field)");
  }
  // As the day reader counts them: a stack of days limits the days, one field does not.
  plan.days_available = c.times > 1 ? std::min(plan.ocean_shape.times, c.times) : plan.ocean_shape.times;

  // Land mask: one per output channel; opened as the runner will read it (rank, element type).
  require_file(s.land_mask_path, "land mask");
  const FieldsShape mask = FieldsFile(s.land_mask_path).shape();
  const int64_t need_c = max_of(s.out_channels) + 1;
  if (mask.times < 1 || mask.channels < need_c || mask.rows < plan.height || mask.cols < plan.width) {
    throw InputError(s.land_mask_path + ":/fields has shape " + mask.shape_string() + ", expected [>=1, >=" +
                     std::to_string(need_c) + ", >=" + std::to_string(plan.height) + ", >=" +
                     std::to_string(plan.width) + "] (one mask per output channel on the model's grid)");
  }
  check_sample(plan.ocean_file, request, "the first and last days of the initial conditions");
  check_sample(s.land_mask_path, mask_request, "the land mask");
}

void validate_ics(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (s.ics.empty()) throw ConfigError("no initial conditions selected (--ics)");
  std::set<int64_t> seen;
  for (const auto ic : s.ics) {
    if (!seen.insert(ic).second) throw ConfigError("--ics lists initial condition " + std::to_string(ic) + " twice");
    // ic + prediction_length - 1 < days_available, written so that absurd values cannot overflow.
    if (ic < 0 || s.prediction_length < 1 || s.prediction_length > plan.days_available ||
        ic > plan.days_available - s.prediction_length) {
      const bool representable = s.prediction_length >= 1 && ic <= kMaxInt64 - (s.prediction_length - 1);
      std::ostringstream m;
      m << "initial condition " << ic << " with prediction length " << s.prediction_length << " needs days " << ic
        << ".." << (representable ? std::to_string(ic + (s.prediction_length - 1)) : std::string("beyond 2^63"))
        << ", but only days 0.." << plan.days_available - 1 << " are available ("
        << plan.ocean_file << " has " << plan.ocean_shape.times << " days";
      if (plan.climatology_shape.times > 1) m << ", the climatology " << plan.climatology_shape.times;
      if (s.prediction_length <= plan.days_available) {
        m << "); the last usable initial condition is " << plan.days_available - s.prediction_length;
      } else {
        m << "); the data are shorter than one prediction of " << s.prediction_length << " days";
      }
      throw InputError(m.str());
    }
  }
}

void validate_atmosphere(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (s.atmos_model.empty()) {
    throw ConfigError("forecast mode needs the atmosphere model: pass --atmos atmos.pt");
  }
  plan.atmos = inspect_model(s.atmos_model, "atmos", "atmosphere");
  check_model_kind(*plan.atmos, "atmos", "atmosphere");
  const ModelMetadata& a = *plan.atmos;
  if (a.in_channels != a.out_channels) {
    throw ModelError(a.path + ": maps " + std::to_string(a.in_channels) + " -> " + std::to_string(a.out_channels) +
                     " channels; an atmosphere model must map its state onto itself");
  }
  plan.atmos_height = a.height;
  plan.atmos_width = a.width;
  plan.atmos_substeps = s.atmos_substeps > 0 ? s.atmos_substeps : a.substeps_per_day;
  if (plan.atmos_substeps <= 0) {
    throw ModelError(a.path + ": its metadata has no substeps_per_day; pass --atmos-substeps");
  }
  plan.atmos_forcing_channels = !s.atmos_forcing_channels.empty() ? s.atmos_forcing_channels : a.forcing_channels;
  const auto n_forcing = static_cast<int64_t>(s.atmos_channels.size());
  if (static_cast<int64_t>(plan.atmos_forcing_channels.size()) != n_forcing) {
    throw ModelError(a.path + ": forcing channels [" + join(plan.atmos_forcing_channels) + "] are " +
                     std::to_string(plan.atmos_forcing_channels.size()) + ", but stage 1 takes " +
                     std::to_string(n_forcing) + " forcing channels per day (" + plan.stages.front().path + ")");
  }
  for (const auto c : plan.atmos_forcing_channels) {
    if (c < 0 || c >= a.out_channels) {
      throw ConfigError("atmosphere forcing channel " + std::to_string(c) + " is outside the model's " +
                        std::to_string(a.out_channels) + " channels");
    }
  }

  plan.atmos_file = resolve_atmos_file(s, plan.ocean_file);
  // Every channel of the atmosphere's initial states, at the first and last initial condition's
  // snapshot (offset + steps_per_day x ic; absurd values are clamped to the file by the probe).
  ProbeRequest request;
  request.height = plan.atmos_height;
  request.width = plan.atmos_width;
  request.channels = a.in_channels;
  for (const auto ic : s.ics.empty() ? std::vector<int64_t>{} : std::vector<int64_t>{min_of(s.ics), max_of(s.ics)}) {
    int64_t snapshot = 0;
    if (__builtin_mul_overflow(std::max<int64_t>(s.atmos_steps_per_day, 1), ic, &snapshot)) snapshot = kMaxInt64;
    request.times.push_back(saturating_add(snapshot, std::max<int64_t>(s.atmos_time_offset, 0)));
  }
  probe_fields_file_isolated(plan.atmos_file, request);
  const FieldsFile file(plan.atmos_file);
  plan.atmos_shape = file.shape();
  plan.atmos_dtype = file.dtype();
  const std::string where = plan.atmos_file + ":/fields";
  // The model's state is the file's first in_channels channels (the reference reads
  // fields[:, in_channels_atmos], 0..68); further channels are not read.
  if (plan.atmos_shape.channels < a.in_channels) {
    throw ModelError(where + " has shape " + plan.atmos_shape.shape_string() + ": " +
                     std::to_string(plan.atmos_shape.channels) + " channels, but the atmosphere model " + a.path +
                     " takes " + std::to_string(a.in_channels) + " (channels 0.." + std::to_string(a.in_channels - 1) +
                     " of the file)");
  }
  if (plan.atmos_shape.channels > a.in_channels) {
    spdlog::info("{} has {} channels: the atmosphere model reads channels 0..{}", where, plan.atmos_shape.channels,
                 a.in_channels - 1);
  }
  check_grid_against(where, plan.atmos_shape, plan.atmos_height, plan.atmos_width, a.path);
  plan.atmos_stats_channels = first_channels(a.in_channels);
  (void)load_norm_stats(s.global_means_path_atmos, s.global_stds_path_atmos, plan.atmos_stats_channels);

  const int64_t last_ic = max_of(s.ics);
  // The snapshot of the last initial condition, offset + steps_per_day * ic, must exist; absurd
  // settings must not overflow on the way.
  int64_t snapshot = 0;
  const bool overflow = s.atmos_steps_per_day < 1 || s.atmos_time_offset < 0 ||
                        __builtin_mul_overflow(s.atmos_steps_per_day, last_ic, &snapshot) ||
                        __builtin_add_overflow(snapshot, s.atmos_time_offset, &snapshot);
  if (overflow || snapshot >= plan.atmos_shape.times) {
    std::ostringstream m;
    m << where << " has " << plan.atmos_shape.times << " time steps, but initial condition " << last_ic
      << " needs snapshot " << (overflow ? std::string("beyond 2^63") : std::to_string(snapshot)) << " (= "
      << s.atmos_time_offset << " + " << s.atmos_steps_per_day << " x " << last_ic << "); ";
    if (plan.atmos_shape.times > s.atmos_time_offset && s.atmos_steps_per_day >= 1) {
      m << "the file covers initial conditions up to "
        << (plan.atmos_shape.times - 1 - s.atmos_time_offset) / s.atmos_steps_per_day;
    } else {
      m << "the file has no snapshot at or after the time offset " << s.atmos_time_offset;
    }
    throw InputError(m.str());
  }
  check_sample(plan.atmos_file, request, "the atmosphere's initial states");
}

}  // namespace neuralom::detail
