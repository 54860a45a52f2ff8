// Fuzz target: the validation of a run's inputs before compute (engine/run_plan and
// engine/detail/input_checks) on a hostile data directory. The fuzz input is a recipe: it builds,
// in a scratch directory, the ocean file test/2020.h5 and land_mask.h5 (any rank, dimensions up
// to 2^64 - 2, element types from int8 to strings and compounds, contiguous/chunked/compact
// layouts, filters, dangling links), the statistics and climatology .npy files, the atmosphere
// file for a forecast, the models' neuralom.json (inside real TorchScript-style zip archives),
// and the run settings (channels, initial conditions, prediction length, atmosphere stepping).
// Files can then be truncated or have a byte flipped.
//
// plan_run() must refuse a bad combination with a neuralom::Error. And what it accepts must hold
// up: reading the mask, the statistics and the first and last day of data the way the runner
// does must then succeed — an error there is a finding, because the run would fail after the
// models were loaded instead of before.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "neuralom/core/log.h"
#include "neuralom/data/day_reader.h"
#include "neuralom/data/fields.h"
#include "neuralom/data/land_mask.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/run_plan.h"

using namespace neuralom;
namespace fs = std::filesystem;

namespace {

[[maybe_unused]] const bool kQuiet = (init_logging("off"), H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), true);

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
// Sizes the recipe picks from: small ones that can match each other, the golden case's, and
// absurd ones (an HDF5 dimension is 64-bit unsigned; a chunked dataset need not store anything).
constexpr uint64_t kDims[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 33, 64, 97, 101, 1u << 20, 1ull << 31,
                              1ull << 40, 1ull << 62, 1ull << 63, ~0ull - 1};
// Element counts above this are never written or read by the harness itself.
constexpr uint64_t kWriteLimit = 1u << 16;
constexpr uint64_t kReadLimit = 1u << 22;

uint64_t pick_dim(fuzz::ByteReader& in) { return kDims[in.below(sizeof(kDims) / sizeof(kDims[0]))]; }

int64_t pick_small(fuzz::ByteReader& in) { return static_cast<int64_t>(kDims[in.below(15)]); }

int64_t pick_index(fuzz::ByteReader& in) {
  static constexpr int64_t kValues[] = {0, 1, 2, 3, 4, 5, 60, 61, (int64_t{1} << 62), kMax - 1, kMax};
  return kValues[in.below(sizeof(kValues) / sizeof(kValues[0]))];
}

uint64_t product(const std::vector<uint64_t>& dims) {
  uint64_t n = 1;
  for (const uint64_t d : dims) {
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / d) return std::numeric_limits<uint64_t>::max();
    n *= d;
  }
  return n;
}

// ---- HDF5 files -----------------------------------------------------------------------------------

/// An HDF5 element type chosen by the recipe (the caller closes it if `owned`).
hid_t pick_type(fuzz::ByteReader& in, bool& owned) {
  owned = false;
  switch (in.below(14)) {
    case 0: case 1: case 2: return H5T_NATIVE_FLOAT;
    case 3: return H5T_NATIVE_DOUBLE;
    case 4: return H5T_IEEE_F32BE;
    case 5: return H5T_NATIVE_INT8;
    case 6: return H5T_NATIVE_UINT8;
    case 7: return H5T_NATIVE_INT16;
    case 8: return H5T_NATIVE_UINT64;
    case 9: return H5T_NATIVE_LDOUBLE;
    case 10: {  // h5py's bool: an enum of int8
      owned = true;
      const hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
      int8_t v = 0;
      H5Tenum_insert(t, "FALSE", &v);
      v = 1;
      H5Tenum_insert(t, "TRUE", &v);
      return t;
    }
    case 11: {
      owned = true;
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, 8);
      return t;
    }
    case 12: {
      owned = true;
      const hid_t t = H5Tcreate(H5T_COMPOUND, 8);
      H5Tinsert(t, "a", 0, H5T_NATIVE_FLOAT);
      H5Tinsert(t, "b", 4, H5T_NATIVE_FLOAT);
      return t;
    }
    default: return H5T_NATIVE_INT32;
  }
}

/// Writes `<path>` with a dataset (or a stand-in) called `name` shaped `dims`.
void write_h5(fuzz::ByteReader& in, const std::string& path, const std::vector<uint64_t>& dims) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return;
  const std::string name = in.below(16) == 0 ? "temperature" : "fields";
  const uint32_t what = in.below(16);
  if (what == 0) {  // a group where the dataset should be
    H5Gclose(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  } else if (what == 1) {
    H5Lcreate_soft("/nowhere", file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else if (what == 2) {
    H5Lcreate_external("missing.h5", "/fields", file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else {
    hid_t space = -1;
    if (what == 3) {
      space = H5Screate(H5S_SCALAR);
    } else if (what == 4) {
      space = H5Screate(H5S_NULL);
    } else {
      const std::vector<hsize_t> extent(dims.begin(), dims.end());
      space = H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr);
    }
    bool owned = false;
    const hid_t type = pick_type(in, owned);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    const uint64_t n = product(dims);
    const uint32_t layout = in.below(4);
    if (layout >= 2 && !dims.empty()) {
      std::vector<hsize_t> chunk;
      for (const uint64_t d : dims) chunk.push_back(std::max<uint64_t>(1, std::min<uint64_t>(d, 1 + in.below(64))));
      H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
      if (in.flag()) H5Pset_deflate(dcpl, 1);
      if (in.flag()) H5Pset_fletcher32(dcpl);
    } else if (layout == 1 && n <= 1024) {
      H5Pset_layout(dcpl, H5D_COMPACT);
    }
    const hid_t dset = H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset >= 0 && what > 4 && n <= kWriteLimit && in.flag() && H5Tget_class(type) == H5T_FLOAT) {
      std::vector<float> values(static_cast<std::size_t>(n));
      const float fill[] = {0.0f, 1.0f, -3.5f, 1e30f, std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity()};
      for (std::size_t i = 0; i < values.size(); ++i) values[i] = fill[(i + in.below(6)) % 6];
      H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }
    if (dset >= 0) H5Dclose(dset);
    H5Pclose(dcpl);
    if (owned) H5Tclose(type);
    H5Sclose(space);
  }
  H5Fclose(file);
}

/// Truncates the file or flips one of its bytes, as the recipe says.
void damage(fuzz::ByteReader& in, const std::string& path) {
  const uint32_t how = in.below(16);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || size == 0) return;
  if (how == 0) {
    fs::resize_file(path, size * in.byte() / 256, ec);
  } else if (how == 1) {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    if (f == nullptr) return;
    const long offset = static_cast<long>(in.u32() % size);
    std::fseek(f, offset, SEEK_SET);
    const int c = std::fgetc(f);
    std::fseek(f, offset, SEEK_SET);
    std::fputc((c ^ (1 << in.below(8))) & 0xff, f);
    std::fclose(f);
  }
}

std::vector<uint64_t> pick_shape(fuzz::ByteReader& in, uint64_t t, uint64_t c, uint64_t r, uint64_t w) {
  std::vector<uint64_t> dims{t, c, r, w};
  // Mostly the intended shape; sometimes another rank or one dimension changed.
  switch (in.below(8)) {
    case 0: dims.resize(in.below(6)); for (auto& d : dims) d = pick_dim(in); break;
    case 1: dims[in.below(4)] = pick_dim(in); break;
    default: break;
  }
  return dims;
}

// ---- .npy files and models ------------------------------------------------------------------------

std::string npy_bytes(const std::string& descr, const std::vector<uint64_t>& shape, bool fortran, uint64_t data_bytes) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  dict += "), }";
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xff));
  return out + dict + std::string(static_cast<std::size_t>(data_bytes), '\0');
}

/// Statistics [1, C, 1, 1] (mean 0 or std 1 unless the recipe spoils them).
void write_stats(fuzz::ByteReader& in, const std::string& path, uint64_t channels, double value) {
  if (channels > kWriteLimit) channels = 1;
  std::string bytes = npy_bytes("<f8", {1, channels, 1, 1}, false, channels * 8);
  double v = value;
  switch (in.below(8)) {
    case 0: v = 0.0; break;
    case 1: v = std::numeric_limits<double>::quiet_NaN(); break;
    default: break;
  }
  for (uint64_t c = 0; c < channels; ++c) std::memcpy(&bytes[bytes.size() - (channels - c) * 8], &v, 8);
  fuzz::write_file(path, bytes);
}

void write_climatology(fuzz::ByteReader& in, const std::string& path, std::vector<uint64_t> shape) {
  if (in.below(4) == 0) shape.erase(shape.begin());  // one field for every day
  if (in.below(8) == 0) shape[in.below(static_cast<uint32_t>(shape.size()))] = pick_dim(in);
  const bool f64 = in.flag();
  const uint64_t n = product(shape);
  if (n > kReadLimit) {
    fuzz::write_file(path, npy_bytes("<f4", {1}, false, 4));
    return;
  }
  fuzz::write_file(path, npy_bytes(f64 ? "<f8" : "<f4", shape, in.below(8) == 0, n * (f64 ? 8 : 4)));
}

/// A model archive holding only extra/neuralom.json, which is all that plan_run() reads.
void write_model(const std::string& path, const nlohmann::json& metadata) {
  const std::string text = metadata.dump();
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("extra/neuralom.json", text.data(), text.size());
  writer.writeEndOfFile();
}

nlohmann::json model_json(const std::string& kind, int64_t in_channels, int64_t out_channels, int64_t height,
                          int64_t width) {
  nlohmann::json m{{"format", "neuralom-model"}, {"format_version", 1}, {"model", kind},
                   {"in_channels", in_channels}, {"out_channels", out_channels}, {"grid", {height, width}},
                   {"mesh_level", 3}, {"hidden_dim", 32}, {"processor_layers", 4}};
  return m;
}

std::vector<int64_t> range(int64_t from, int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(from + i);
  return v;
}

/// At the end of every input no HDF5 file or object may be open: a handle our code failed to
/// close would keep the file busy and its memory allocated (LeakSanitizer does not see HDF5's
/// internals, see tests/sanitizers/lsan.supp).
struct NoOpenHdf5Objects {
  ~NoOpenHdf5Objects() {
    const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) {
      std::fprintf(stderr, "fuzz: %zd HDF5 files or objects left open\n", open);
      std::abort();
    }
  }
};

[[noreturn]] void finding(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "fuzz: the plan was accepted, but %s failed: %s\n", what.c_str(), message.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const NoOpenHdf5Objects check;  // destroyed last, after everything that may hold a handle
  fuzz::ByteReader in(data, size);
  const fs::path dir = fuzz::scratch_dir() / "run";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "data" / "test");
  fs::create_directories(dir / "data" / "test_atmos");
  const std::string data_dir = (dir / "data").string();

  // The run's geometry and channels.
  const bool forecast = in.below(4) == 0;
  const int64_t n_forcing = std::max<int64_t>(1, pick_small(in) % 4);
  const int64_t n_ocean = std::max<int64_t>(1, pick_small(in) % 6);
  const int64_t n_in = n_ocean + n_forcing;
  const int64_t height = std::max<int64_t>(1, pick_small(in));
  const int64_t width = std::max<int64_t>(1, pick_small(in));
  const uint64_t times = pick_dim(in);
  const uint64_t file_channels = in.below(4) == 0 ? pick_dim(in) : static_cast<uint64_t>(n_in + in.below(3));

  RunSettings s;
  s.mode = forecast ? RunMode::kForecast : RunMode::kSimulate;
  s.data_dir = data_dir;
  s.test_data_path = (dir / "data" / "test").string();
  s.year = "2020";
  s.land_mask_path = data_dir + "/land_mask.h5";
  s.global_means_path = data_dir + "/mean.npy";
  s.global_stds_path = data_dir + "/std.npy";
  s.climate_mean_path = data_dir + "/clim.npy";
  s.test_data_path_atmos = (dir / "data" / "test_atmos").string();
  s.global_means_path_atmos = data_dir + "/mean_atmos.npy";
  s.global_stds_path_atmos = data_dir + "/std_atmos.npy";
  s.in_channels = range(static_cast<int64_t>(in.below(2)), n_in);
  s.ocean_channels = range(0, n_ocean);
  s.atmos_channels = range(n_ocean, n_forcing);
  s.out_channels.clear();
  for (const int64_t p : s.ocean_channels) s.out_channels.push_back(s.in_channels[static_cast<std::size_t>(p)]);
  if (in.below(16) == 0) s.out_channels[0] = pick_index(in);
  for (int64_t c = 0; c < n_ocean; ++c) s.out_variables.push_back("v" + std::to_string(c));
  s.prediction_length = in.below(4) == 0 ? pick_index(in) : 2 + in.below(3);
  s.ics = {in.below(4) == 0 ? pick_index(in) : static_cast<int64_t>(in.below(3))};
  if (in.flag()) s.ics.push_back(pick_index(in));
  s.atmos_time_offset = in.below(4) == 0 ? pick_index(in) : 2;
  s.atmos_steps_per_day = in.below(4) == 0 ? std::max<int64_t>(1, pick_index(in)) : 4;
  s.dry_run = in.below(4) != 0;
  s.output_dir = (dir / "out").string();
  s.device = "cpu";

  // Ocean file, mask, statistics, climatology.
  const uint64_t rows = static_cast<uint64_t>(height) + in.below(3);
  const uint64_t cols = static_cast<uint64_t>(width) + (in.below(8) == 0 ? 1 : 0);
  const std::string ocean = s.test_data_path + "/2020.h5";
  write_h5(in, ocean, pick_shape(in, times, file_channels, rows, cols));
  damage(in, ocean);
  write_h5(in, s.land_mask_path, pick_shape(in, 1, file_channels, rows, cols));
  damage(in, s.land_mask_path);
  write_stats(in, s.global_means_path, in.below(8) == 0 ? pick_dim(in) : file_channels, 0.0);
  write_stats(in, s.global_stds_path, in.below(8) == 0 ? pick_dim(in) : file_channels, 1.0);
  write_climatology(in, s.climate_mean_path, {times, file_channels, rows, cols});

  // Models: metadata only, mostly consistent with the run.
  auto lie = [&in](int64_t v) { return in.below(16) == 0 ? pick_index(in) : v; };
  const std::string s1 = (dir / "stage1.pt").string();
  const std::string s2 = (dir / "stage2.pt").string();
  write_model(s1, model_json("stage1", lie(n_ocean + 2 * n_forcing), lie(n_ocean), lie(height), lie(width)));
  write_model(s2, model_json(in.below(16) == 0 ? "atmos" : "stage2", lie(n_ocean), lie(n_ocean), lie(height),
                             lie(width)));
  s.stages = {s1, s2};
  if (in.below(8) == 0) s.stages.pop_back();

  // Forecast: the atmosphere model and its data.
  if (forecast) {
    const int64_t a_channels = std::max<int64_t>(n_forcing, pick_small(in) % 8);
    const int64_t a_height = std::max<int64_t>(1, pick_small(in));
    const int64_t a_width = std::max<int64_t>(1, pick_small(in));
    nlohmann::json a = model_json("atmos", lie(a_channels), lie(a_channels), lie(a_height), lie(a_width));
    a["substeps_per_day"] = lie(4);
    a["forcing_channels"] = range(a_channels - n_forcing, n_forcing);
    s.atmos_model = (dir / "atmos.pt").string();
    write_model(s.atmos_model, a);
    const std::string atmos = s.test_data_path_atmos + "/2020.h5";
    write_h5(in, atmos, pick_shape(in, pick_dim(in), static_cast<uint64_t>(a_channels),
                                   static_cast<uint64_t>(a_height) + in.below(2), static_cast<uint64_t>(a_width)));
    damage(in, atmos);
    write_stats(in, s.global_means_path_atmos, static_cast<uint64_t>(a_channels), 0.0);
    write_stats(in, s.global_stds_path_atmos, static_cast<uint64_t>(a_channels), 1.0);
  }

  RunPlan plan;
  try {
    plan = plan_run(s);
  } catch (const Error&) {
    return 0;  // refused with a message
  }

  // Accepted: what the runner reads before the first step must now work. (Sizes beyond what
  // the harness may allocate are left to the plan's memory estimate.)
  const FieldsShape& o = plan.ocean_shape;
  if (static_cast<uint64_t>(o.channels) * static_cast<uint64_t>(plan.height) * static_cast<uint64_t>(plan.width) >
      kReadLimit) {
    return 0;
  }
  std::string step = "reading the land mask";
  try {
    (void)read_land_mask(s.land_mask_path, s.out_channels, plan.height, plan.width);
    step = "loading the statistics";
    const NormStats stats = load_norm_stats(s.global_means_path, s.global_stds_path, plan.ocean_stats_channels);
    step = "reading the first and last day";
    DayReaderSpec spec;
    spec.channels = s.in_channels;
    spec.height = plan.height;
    spec.width = plan.width;
    const DayReader reader(std::make_shared<const FieldsFile>(plan.ocean_file),
                           std::make_shared<const Climatology>(plan.climatology_file), stats, spec);
    const auto [first, last] = std::minmax_element(s.ics.begin(), s.ics.end());
    (void)reader.read(*first);
    (void)reader.read(*last + s.prediction_length - 1);
    if (plan.atmos) {
      step = "reading the atmosphere's initial states";
      const NormStats astats =
          load_norm_stats(s.global_means_path_atmos, s.global_stds_path_atmos, plan.atmos_stats_channels);
      DayReaderSpec aspec;
      aspec.channels = plan.atmos_stats_channels;
      aspec.height = plan.atmos_height;
      aspec.width = plan.atmos_width;
      aspec.time_offset = s.atmos_time_offset;
      aspec.time_stride = s.atmos_steps_per_day;
      const DayReader areader(std::make_shared<const FieldsFile>(plan.atmos_file), nullptr, astats, aspec);
      if (static_cast<uint64_t>(plan.atmos_shape.channels) * static_cast<uint64_t>(plan.atmos_height) *
              static_cast<uint64_t>(plan.atmos_width) <= kReadLimit) {
        (void)areader.read(*first);
        (void)areader.read(*last);
      }
    }
  } catch (const Error& e) {
    finding(step, e.what());
  }
  return 0;
}
