#include "neuralom/io/netcdf_file.h"

#include <netcdf.h>
#include <netcdf_filter.h>
#include <netcdf_meta.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "io/detail/hdf5_handle.h"
#include "neuralom/core/errors.h"
#include "neuralom/io/output_file.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

using detail::Hdf5Lock;

nc_type to_nc_type(NetcdfType type) {
  switch (type) {
    case NetcdfType::kFloat32: return NC_FLOAT;
    case NetcdfType::kFloat64: return NC_DOUBLE;
    case NetcdfType::kInt32: return NC_INT;
    case NetcdfType::kString: return NC_STRING;
  }
  return NC_NAT;
}

std::vector<std::size_t> to_size(const std::vector<int64_t>& values) {
  std::vector<std::size_t> out;
  out.reserve(values.size());
  for (const int64_t v : values) out.push_back(static_cast<std::size_t>(v));
  return out;
}

/// netCDF-C opens a Zarr store from a URL whose fragment names the storage: plain Zarr ("zarr",
/// with the _ARRAY_DIMENSIONS attributes xarray needs) in a directory ("file").
std::string zarr_url(const std::string& path) {
  return "file://" + fs::absolute(path).lexically_normal().string() + "#mode=zarr,file";
}

}  // namespace

bool netcdf_zarr_available() {
#if defined(NC_HAS_NCZARR) && NC_HAS_NCZARR
  return true;
#else
  return false;
#endif
}

std::string netcdf_library_version() {
  Hdf5Lock lock;
  const std::string full = nc_inq_libvers();  // "4.9.0 of Jul  5 2022 ..."
  return full.substr(0, full.find(' '));
}

namespace {

/// A metadata file of netCDF's Zarr store as strict JSON. netCDF-C 4.9 writes a NaN fill value as
/// the bare token NaN, which Python's json accepts and the JSON of other readers (zarr-js, Rust's
/// serde, Julia) rejects: the Zarr v2 spec writes it as the string "NaN" in .zarray, and the copy
/// of it netCDF puts among the attributes (.zattrs "_FillValue") is left out (xarray takes the
/// fill value from .zarray). Returns "" for a file that needed no change.
std::string strict_zarr_json(const std::string& name, const std::string& text) {
  static const std::regex fill_value(R"re(("fill_value"\s*:\s*)(NaN|-?Infinity)\b)re");
  // The attribute first or among others (with the comma after it), last (the comma before), alone.
  static const std::regex attribute_then_comma(R"re("_FillValue"\s*:\s*(NaN|-?Infinity)\s*,\s*)re");
  static const std::regex comma_then_attribute(R"re(,\s*"_FillValue"\s*:\s*(NaN|-?Infinity)(\s*\}))re");
  static const std::regex attribute_alone(R"re(\{\s*"_FillValue"\s*:\s*(NaN|-?Infinity)\s*\})re");
  std::string out = text;
  if (name == ".zarray") out = std::regex_replace(out, fill_value, "$1\"$2\"");
  if (name == ".zattrs") {
    out = std::regex_replace(out, attribute_then_comma, "");
    out = std::regex_replace(out, comma_then_attribute, "$2");
    out = std::regex_replace(out, attribute_alone, "{}");
  }
  return out == text ? std::string() : out;
}

std::string read_whole_file(const fs::path& file, const std::string& store, const std::string& key) {
  std::error_code ec;
  std::string content(static_cast<std::size_t>(fs::file_size(file, ec)), '\0');
  std::ifstream in(file, std::ios::binary);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  if (ec || !in) throw OutputError(store + ": cannot read " + key);
  return content;
}

}  // namespace

void consolidate_zarr_metadata(const std::string& store) {
  // Each metadata file is made strict JSON in place, then embedded verbatim.
  std::vector<std::string> keys;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(store, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == ".zgroup" || name == ".zattrs" || name == ".zarray") {
      keys.push_back(it->path().lexically_relative(store).generic_string());
    }
  }
  if (ec) throw OutputError(store + ": cannot list the Zarr store: " + ec.message());
  std::sort(keys.begin(), keys.end());
  std::string text = "{\n \"zarr_consolidated_format\": 1,\n \"metadata\": {";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const fs::path file = fs::path(store) / keys[i];
    std::string content = read_whole_file(file, store, keys[i]);
    if (std::string strict = strict_zarr_json(file.filename().string(), content); !strict.empty()) {
      content = std::move(strict);
      std::ofstream rewrite(file, std::ios::binary | std::ios::trunc);
      rewrite << content;
      rewrite.close();
      if (!rewrite) throw OutputError(store + ": cannot write " + keys[i]);
    }
    if (!content.empty() && !nlohmann::json::accept(content)) {
      // Python's readers take it anyway; the store is not refused for it.
      spdlog::warn("{}: {} is not strict JSON (readers other than Python's may reject it): {}", store, keys[i],
                   content.substr(0, 200));
    }
    text += (i == 0 ? "\n  \"" : ",\n  \"") + keys[i] + "\": " + (content.empty() ? std::string("{}") : content);
  }
  text += "\n }\n}\n";
  std::ofstream out(fs::path(store) / ".zmetadata", std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw OutputError(store + ": cannot write .zmetadata");
}

struct NetcdfFile::Impl {
  std::string path;
  NetcdfFormat format = NetcdfFormat::kNetcdf4;
  int id = -1;
  std::map<std::string, int> dimensions;
  std::map<std::string, int> variables;
  bool compression_applied = false;

  /// Throws OutputError for a failed netCDF call: "<path>: cannot <what>: <netCDF's message>".
  void check(int status, const std::string& what) const {
    if (status != NC_NOERR) throw OutputError(path + ": cannot " + what + ": " + nc_strerror(status));
  }
  int variable(const std::string& name) const {
    if (name.empty()) return NC_GLOBAL;
    const auto it = variables.find(name);
    if (it == variables.end()) throw OutputError(path + ": no variable '" + name + "' has been defined");
    return it->second;
  }
  std::string where(const std::string& name, const std::string& key) const {
    return "write attribute '" + key + "' of " + (name.empty() ? std::string("the dataset") : "'" + name + "'");
  }
};

namespace {

/// The state of an open file. Using a closed or moved-from file is a bug in the caller.
template <typename Impl>
Impl& open_impl(const std::unique_ptr<Impl>& impl) {
  if (!impl || impl->id < 0) throw std::logic_error("neuralom::NetcdfFile used after close() or a move");
  return *impl;
}

}  // namespace

NetcdfFile::NetcdfFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NetcdfFile::NetcdfFile(NetcdfFile&&) noexcept = default;
NetcdfFile& NetcdfFile::operator=(NetcdfFile&&) noexcept = default;

NetcdfFile::~NetcdfFile() {
  if (impl_ && impl_->id >= 0) {
    Hdf5Lock lock;
    nc_close(impl_->id);  // a destructor must not throw; an unfinished file is deleted by its owner
  }
}

NetcdfFile NetcdfFile::create(const std::string& path, NetcdfFormat format) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->format = format;
  std::string target = path;
  if (format == NetcdfFormat::kZarr) {
    if (!netcdf_zarr_available()) {
      throw ConfigError("--format zarr: this netCDF-C library (" + netcdf_library_version() +
                        ") was built without NCZarr; use --format netcdf");
    }
    remove_tree(path);  // NC_CLOBBER does not empty an existing store directory
    target = zarr_url(path);
  }
  Hdf5Lock lock;
  impl->check(nc_create(target.c_str(), NC_NETCDF4 | NC_CLOBBER, &impl->id), "create the file");
  return NetcdfFile(std::move(impl));
}

NetcdfFile NetcdfFile::open_read(const std::string& path, NetcdfFormat format) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->format = format;
  const std::string target = format == NetcdfFormat::kZarr ? zarr_url(path) : path;
  Hdf5Lock lock;
  const int status = nc_open(target.c_str(), NC_NOWRITE, &impl->id);
  if (status != NC_NOERR) throw InputError(path + ": cannot open: " + nc_strerror(status));
  return NetcdfFile(std::move(impl));
}

int64_t NetcdfFile::dimension_length(const std::string& name) const {
  const Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  int id = -1;
  std::size_t length = 0;
  if (nc_inq_dimid(f.id, name.c_str(), &id) != NC_NOERR || nc_inq_dimlen(f.id, id, &length) != NC_NOERR) {
    throw InputError(f.path + ": no dimension '" + name + "'");
  }
  return static_cast<int64_t>(length);
}

void NetcdfFile::read(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                      float* out) const {
  const Impl& f = open_impl(impl_);
  const std::vector<std::size_t> s = to_size(start);
  const std::vector<std::size_t> c = to_size(count);
  Hdf5Lock lock;
  int id = -1;
  int status = nc_inq_varid(f.id, variable.c_str(), &id);
  if (status == NC_NOERR) status = nc_get_vara_float(f.id, id, s.data(), c.data(), out);
  if (status != NC_NOERR) {
    throw InputError(f.path + ": cannot read a block of '" + variable + "': " + nc_strerror(status));
  }
}

const std::string& NetcdfFile::path() const { return open_impl(impl_).path; }
NetcdfFormat NetcdfFile::format() const { return open_impl(impl_).format; }
bool NetcdfFile::compression_applied() const { return open_impl(impl_).compression_applied; }

void NetcdfFile::define_dimension(const std::string& name, int64_t size) {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  int id = -1;
  f.check(nc_def_dim(f.id, name.c_str(), static_cast<std::size_t>(size), &id),
          "define dimension '" + name + "' of size " + std::to_string(size));
  f.dimensions[name] = id;
}

void NetcdfFile::define_variable(const std::string& name, NetcdfType type, const std::vector<std::string>& dimensions,
                                 const std::vector<int64_t>& chunk, int deflate_level, bool nan_fill) {
  Impl& f = open_impl(impl_);
  std::vector<int> dims;
  for (const auto& d : dimensions) {
    const auto it = f.dimensions.find(d);
    if (it == f.dimensions.end()) throw OutputError(f.path + ": variable '" + name + "' uses undefined dimension '" + d + "'");
    dims.push_back(it->second);
  }
  const std::string what = "define variable '" + name + "'";
  Hdf5Lock lock;
  int id = -1;
  f.check(nc_def_var(f.id, name.c_str(), to_nc_type(type), static_cast<int>(dims.size()), dims.data(), &id), what);
  if (!chunk.empty()) {
    const std::vector<std::size_t> sizes = to_size(chunk);
    f.check(nc_def_var_chunking(f.id, id, NC_CHUNKED, sizes.data()), what + " (chunking)");
  }
  f.compression_applied = false;
  if (deflate_level > 0) {
    // Without the zlib filter plugin an NCZarr store accepts the request and ignores it; ask first.
    const bool available = f.format == NetcdfFormat::kNetcdf4 || nc_inq_filter_avail(f.id, H5Z_FILTER_DEFLATE) == NC_NOERR;
    if (available) {
      f.check(nc_def_var_deflate(f.id, id, /*shuffle=*/1, /*deflate=*/1, deflate_level), what + " (compression)");
      f.compression_applied = true;
    }
  }
  if (nan_fill && type == NetcdfType::kFloat32) {
    const float fill = std::numeric_limits<float>::quiet_NaN();
    f.check(nc_def_var_fill(f.id, id, NC_FILL, &fill), what + " (_FillValue)");
  } else if (nan_fill && type == NetcdfType::kFloat64) {
    const double fill = std::numeric_limits<double>::quiet_NaN();
    f.check(nc_def_var_fill(f.id, id, NC_FILL, &fill), what + " (_FillValue)");
  }
  f.variables[name] = id;
}

void NetcdfFile::put_attribute(const std::string& variable, const std::string& key, const std::string& value) {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  f.check(nc_put_att_text(f.id, f.variable(variable), key.c_str(), value.size(), value.c_str()), f.where(variable, key));
}

void NetcdfFile::put_attribute(const std::string& variable, const std::string& key, const char* value) {
  put_attribute(variable, key, std::string(value));
}

void NetcdfFile::put_attribute(const std::string& variable, const std::string& key, double value) {
  put_attribute(variable, key, std::vector<double>{value});
}

void NetcdfFile::put_attribute(const std::string& variable, const std::string& key, const std::vector<double>& values) {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  f.check(nc_put_att_double(f.id, f.variable(variable), key.c_str(), NC_DOUBLE, values.size(), values.data()),
          f.where(variable, key));
}

void NetcdfFile::put_attribute(const std::string& variable, const std::string& key, int32_t value) {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  f.check(nc_put_att_int(f.id, f.variable(variable), key.c_str(), NC_INT, 1, &value), f.where(variable, key));
}

void NetcdfFile::end_definitions() {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  f.check(nc_enddef(f.id), "leave define mode");
}

namespace {

// A template over Impl, so that it need not name the private NetcdfFile::Impl.
template <typename Impl, typename T, typename Put>
void write_block(Impl& f, const std::string& variable, const std::vector<int64_t>& start,
                 const std::vector<int64_t>& count, const T* data, Put put) {
  const std::vector<std::size_t> s = to_size(start);
  const std::vector<std::size_t> c = to_size(count);
  const int id = f.variable(variable);
  Hdf5Lock lock;
  f.check(put(f.id, id, s.data(), c.data(), data), "write a block of '" + variable + "'");
}

}  // namespace

void NetcdfFile::write(const std::string& variable, const std::vector<int64_t>& start,
                       const std::vector<int64_t>& count, const float* data) {
  write_block(open_impl(impl_), variable, start, count, data, nc_put_vara_float);
}

void NetcdfFile::write(const std::string& variable, const std::vector<int64_t>& start,
                       const std::vector<int64_t>& count, const double* data) {
  write_block(open_impl(impl_), variable, start, count, data, nc_put_vara_double);
}

void NetcdfFile::write(const std::string& variable, const std::vector<int64_t>& start,
                       const std::vector<int64_t>& count, const int32_t* data) {
  write_block(open_impl(impl_), variable, start, count, data, nc_put_vara_int);
}

void NetcdfFile::write(const std::string& variable, const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& v : values) pointers.push_back(v.c_str());
  write_block(open_impl(impl_), variable, {0}, {static_cast<int64_t>(values.size())}, pointers.data(),
              [](int nc, int var, const std::size_t* s, const std::size_t* c, const char* const* d) {
                return nc_put_vara_string(nc, var, s, c, const_cast<const char**>(d));
              });
}

void NetcdfFile::close() {
  Impl& f = open_impl(impl_);
  Hdf5Lock lock;
  const int status = nc_close(f.id);
  f.id = -1;
  f.check(status, "close the file");
  impl_.reset();
}

}  // namespace neuralom
