// A small RAII layer over the HDF5 C library: open files, inspect datasets, read and write
// hyperslabs with conversion to float32/float64.
//
// The HDF5 library shipped by most distributions is not built thread-safe, and the engine reads
// inputs on a prefetch thread while it writes results on another. Every call into HDF5 made
// through this layer therefore holds one process-wide lock; do not call HDF5 directly elsewhere.
// HDF5's own error printing is switched off: failures become exceptions with file and dataset names.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "neuralom/io/dtype.h"

namespace neuralom {

/// Shape and element type of a dataset.
struct H5DatasetInfo {
  std::vector<int64_t> shape;
  DType dtype = DType::kOther;  ///< float16 (IEEE)/float32/float64/integers/bool(enum) as far as recognised
  std::string type_description; ///< e.g. "float32", "int64", "string" — for messages

  std::string shape_string() const;  ///< "[5, 97, 33, 64]"
};

/// An open HDF5 file. Movable, not copyable. Closing happens in the destructor.
class H5File {
 public:
  /// Opens an existing file read-only. Throws InputError (missing file, not HDF5).
  static H5File open_read(const std::string& path);
  /// Creates (truncates) a file for writing. Throws OutputError.
  static H5File create(const std::string& path);

  H5File(H5File&&) noexcept;
  H5File& operator=(H5File&&) noexcept;
  ~H5File();

  const std::string& path() const;
  bool has_dataset(const std::string& name) const;
  std::vector<std::string> dataset_names() const;  ///< root-level datasets, sorted

  /// Throws InputError if the dataset does not exist ("<file>: no dataset '<name>' (found: a, b)").
  H5DatasetInfo dataset_info(const std::string& name) const;

  /// Reads the hyperslab [start, start+count) of a dataset of any real dtype, converted to float32
  /// or float64, into `out` (C order, product(count) elements). Throws InputError.
  void read(const std::string& name, const std::vector<int64_t>& start,
            const std::vector<int64_t>& count, float* out) const;
  void read(const std::string& name, const std::vector<int64_t>& start,
            const std::vector<int64_t>& count, double* out) const;

  /// Creates a float32 dataset of the given shape, chunked by `chunk` (same rank), optionally
  /// gzip-compressed (level 1..9; 0 = none, with the shuffle filter when compressing).
  /// `extensible_first`: the first dimension may grow (maximum shape unlimited, h5py's
  /// maxshape=(None, ...)), as the reference creates its results datasets. Throws OutputError.
  void create_float_dataset(const std::string& name, const std::vector<int64_t>& shape,
                            const std::vector<int64_t>& chunk, int gzip_level = 0, bool extensible_first = false);

  /// Writes a float32 hyperslab. Throws OutputError.
  void write(const std::string& name, const std::vector<int64_t>& start,
             const std::vector<int64_t>& count, const float* data);

  /// Copies one stored chunk of dataset `name` — its bytes as stored, compressed or not — from
  /// `source` (chunk at element offset `from`) to this file's dataset `name` (chunk at `to`).
  /// Both datasets must have the same chunk shape, element type and filters (two files written by
  /// the same writer): the data is then copied exactly, without decompressing and compressing it
  /// again. Throws InputError (source), OutputError (this file).
  void copy_chunk(const H5File& source, const std::string& name, const std::vector<int64_t>& from,
                  const std::vector<int64_t>& to);

  /// Attributes on a dataset ("" = the root group). Throws OutputError.
  void write_attribute(const std::string& object, const std::string& key, const std::string& value);
  void write_attribute(const std::string& object, const std::string& key, const std::vector<int64_t>& value);
  void write_attribute(const std::string& object, const std::string& key, const std::vector<std::string>& value);

  /// Flushes and closes; afterwards the object is empty. Throws OutputError if the flush fails.
  void close();

 private:
  struct Impl;
  explicit H5File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neuralom
