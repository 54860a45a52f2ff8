// A small RAII layer over the netCDF-C library for the files neuralom writes: NetCDF-4 files and,
// where the library was built with NCZarr, Zarr stores.
//
// netCDF-4 is HDF5 underneath, and the HDF5 library is not built thread-safe on most systems: every
// call into netCDF made here holds the same process-wide lock as io/hdf5_file (the engine reads its
// inputs through HDF5 on a prefetch thread while it writes outputs). Failures become OutputError
// naming the file, the variable or attribute, and netCDF's own message (InputError when reading).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neuralom {

/// The container a NetcdfFile is written as.
enum class NetcdfFormat {
  kNetcdf4,  ///< one NetCDF-4 (HDF5) file
  kZarr,     ///< a Zarr v2 directory store (NCZarr "zarr" mode: plain Zarr that xarray and zarr-python open)
};

/// Element types of variables.
enum class NetcdfType { kFloat32, kFloat64, kInt32, kString };

/// True if this build of netCDF-C can write Zarr stores (NCZarr).
bool netcdf_zarr_available();

/// The netCDF-C library version, e.g. "4.9.0".
std::string netcdf_library_version();

/// Writes `<store>/.zmetadata`, the consolidated metadata of a closed Zarr v2 store (every .zgroup,
/// .zattrs and .zarray in one file), which xarray.open_zarr and zarr.open_consolidated read first;
/// without it xarray warns and opens the store more slowly. Throws OutputError.
void consolidate_zarr_metadata(const std::string& store);

/// A netCDF dataset being written. Movable, not copyable; the destructor closes it (without
/// throwing). Definitions (dimensions, variables, attributes) come first, then end_definitions(),
/// then data; attributes may also be added after end_definitions().
class NetcdfFile {
 public:
  /// Creates (replaces) `path`: a file for kNetcdf4, a directory for kZarr. Throws OutputError,
  /// ConfigError for kZarr when netcdf_zarr_available() is false.
  static NetcdfFile create(const std::string& path, NetcdfFormat format);

  /// Opens an existing file (or Zarr store) read-only. Throws InputError.
  static NetcdfFile open_read(const std::string& path, NetcdfFormat format);

  NetcdfFile(NetcdfFile&&) noexcept;
  NetcdfFile& operator=(NetcdfFile&&) noexcept;
  ~NetcdfFile();

  const std::string& path() const;
  NetcdfFormat format() const;

  /// A fixed-size dimension. Throws OutputError.
  void define_dimension(const std::string& name, int64_t size);

  /// A variable over `dimensions` (names, slowest first). `chunk`: chunk sizes (same rank) or empty
  /// for the library's default; `deflate_level` 1..9 compresses with shuffle + zlib (0 = none; a
  /// Zarr store without the zlib filter plugin is written uncompressed, see compression_applied()).
  /// With `nan_fill`, a floating-point variable gets `_FillValue` NaN (missing values, land);
  /// coordinates get none, as CF asks. Throws OutputError.
  void define_variable(const std::string& name, NetcdfType type, const std::vector<std::string>& dimensions,
                       const std::vector<int64_t>& chunk = {}, int deflate_level = 0, bool nan_fill = false);

  /// Whether the last define_variable() with a deflate level actually enabled compression.
  bool compression_applied() const;

  /// Attributes of a variable, or of the dataset when `variable` is empty. Throws OutputError.
  void put_attribute(const std::string& variable, const std::string& key, const std::string& value);
  void put_attribute(const std::string& variable, const std::string& key, const char* value);
  void put_attribute(const std::string& variable, const std::string& key, double value);
  void put_attribute(const std::string& variable, const std::string& key, const std::vector<double>& values);
  void put_attribute(const std::string& variable, const std::string& key, int32_t value);

  /// Leaves define mode. Throws OutputError.
  void end_definitions();

  /// Writes the block [start, start + count) of a variable from `data` (C order). Throws OutputError.
  void write(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
             const float* data);
  void write(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
             const double* data);
  void write(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
             const int32_t* data);
  /// A whole one-dimensional string variable.
  void write(const std::string& variable, const std::vector<std::string>& values);

  /// The length of a dimension. Throws InputError if there is none of that name.
  int64_t dimension_length(const std::string& name) const;
  /// Reads the block [start, start + count) of a float variable into `out` (C order). Throws InputError.
  void read(const std::string& variable, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
            float* out) const;

  /// Flushes and closes; afterwards the object is empty. Throws OutputError.
  void close();

 private:
  struct Impl;
  explicit NetcdfFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neuralom
