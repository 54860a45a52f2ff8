// A `fields` dataset in the reference's layout `[time, channel, row, column]` (the ocean test
// files `test/<year>.h5`, the atmosphere files `test_atmos/<year>.h5` and `land_mask.h5`), and the
// day-of-year climatology `.npy` that has the same layout. Both are read one time slice at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/io/hdf5_file.h"
#include "neuralom/io/npy.h"

namespace neuralom {

/// Shape of a `[T, C, R, W]` array plus where it came from.
struct FieldsShape {
  int64_t times = 0;
  int64_t channels = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  std::string shape_string() const;  ///< "[365, 97, 361, 720]"
};

/// `<file>:/<dataset>`, rank 4, float16, float32 or float64 (integer and bool types are converted
/// to float32).
class FieldsFile {
 public:
  /// Opens and checks rank and element type. Throws InputError ("<path>: no dataset 'fields'",
  /// "<path>:/fields has shape [..], expected [time, channel, row, column]").
  explicit FieldsFile(const std::string& path, const std::string& dataset = "fields");

  const std::string& path() const { return path_; }
  const std::string& dataset() const { return dataset_; }
  const FieldsShape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }

  /// Reads `[t, c0:c0+nc, 0:rows, 0:cols]` as a CPU tensor `[nc, rows, cols]` in the file's float
  /// type (float16, float32 or float64; float32 for integer and bool types), so that arithmetic on
  /// it promotes as NumPy's on the reference's arrays. Throws InputError for out-of-range requests.
  at::Tensor read(int64_t t, int64_t c0, int64_t nc, int64_t rows, int64_t cols) const;

 private:
  std::string path_;
  std::string dataset_;
  std::shared_ptr<H5File> file_;
  FieldsShape shape_;
  DType dtype_ = DType::kFloat32;
};

/// The climatology `.npy`: `[T, C, R, W]` (one field per day of year), or a single field
/// `[C, R, W]` / `[1, C, R, W]` used for every day. float16, float32 or float64, C order.
class Climatology {
 public:
  /// Throws InputError for other ranks or dtypes.
  explicit Climatology(const std::string& path);

  const std::string& path() const { return reader_.info().path; }
  const FieldsShape& shape() const { return shape_; }  ///< times = 1 for a single field
  bool single_field() const { return shape_.times == 1; }
  DType dtype() const { return reader_.info().dtype; }

  /// Reads day `t` (ignored for a single field), channels `[c0, c0+nc)`, rows `[0, rows)`,
  /// columns `[0, cols)` as `[nc, rows, cols]` in the file's dtype. Thread-safe.
  at::Tensor read(int64_t t, int64_t c0, int64_t nc, int64_t rows, int64_t cols) const;

  /// Reads day `t` of the given channels (any order) as `[channels.size(), rows, cols]`, reading
  /// each run of consecutive channels at once. Thread-safe.
  at::Tensor read_channels(int64_t t, const std::vector<int64_t>& channels, int64_t rows, int64_t cols) const;

 private:
  NpyReader reader_;
  FieldsShape shape_;
};

}  // namespace neuralom
