#include "neuralom/io/hdf5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

#include "io/detail/hdf5_handle.h"
#include "io/detail/hdf5_types.h"
#include "io/detail/join_shape.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using detail::describe_type;
using detail::Handle;
using detail::Hdf5Lock;
using detail::hyperslab_problem;
using detail::join_shape;
using detail::shape_of;
using detail::to_hsize;

std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& name : names) s += (s.empty() ? "" : ", ") + name;
  return s;
}

herr_t collect_link_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(name);
  return 0;
}

/// True if `name` is a dataset of the file (false for groups, missing names and bad paths).
bool is_dataset(hid_t file, const std::string& name) {
  // H5Lexists fails, rather than answering false, when an intermediate group is missing.
  if (name.empty() || H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) return false;
  // H5Iget_type on an opened object avoids H5Oget_info, whose signature differs between HDF5 1.10
  // and 1.12+.
  const Handle object(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose);
  return object.valid() && H5Iget_type(object.get()) == H5I_DATASET;
}

std::vector<std::string> root_dataset_names(hid_t file) {
  std::vector<std::string> links;
  H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link_name, &links);
  std::vector<std::string> datasets;
  for (const auto& name : links) {
    if (is_dataset(file, name)) datasets.push_back(name);
  }
  std::sort(datasets.begin(), datasets.end());
  return datasets;
}

/// The reason a path cannot be opened as an HDF5 file, for messages.
std::string why_not_hdf5(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "no such file";
  if (std::filesystem::is_directory(path, ec)) return "is a directory, expected an HDF5 file";
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return std::string("cannot open for reading: ") + std::strerror(errno);
  return "not an HDF5 file";
}

/// The state of an open H5File. Using a closed or moved-from file is a bug in the caller, not a
/// problem with the data, hence logic_error. (A template, so that it need not name the private Impl.)
template <typename Impl>
Impl& open_impl(const std::unique_ptr<Impl>& impl) {
  if (!impl) throw std::logic_error("neuralom::H5File used after close() or a move");
  return *impl;
}

}  // namespace

std::string H5DatasetInfo::shape_string() const { return join_shape(shape); }

// ---- H5File::Impl -------------------------------------------------------------------------------

struct H5File::Impl {
  std::string path;
  Handle file;
  bool writable = false;

  std::string where(const std::string& dataset) const { return path + ":/" + dataset; }

  /// Opens a dataset for reading; a missing one is an InputError that lists what the file has.
  Handle open_dataset_for_reading(const std::string& name) const {
    if (!is_dataset(file.get(), name)) {
      const std::vector<std::string> found = root_dataset_names(file.get());
      throw InputError(path + ": no dataset '" + name + "' (found: " +
                       (found.empty() ? "no datasets" : join_names(found)) + ")");
    }
    Handle dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) throw InputError(where(name) + ": cannot open the dataset (corrupt file?)");
    return dataset;
  }

  /// Selects [start, start+count) in the dataset's file space. `memory` receives the matching
  /// memory space. Throws `Error` naming the dataset if the block does not fit.
  template <typename Error>
  Handle select_block(hid_t dataset, const std::string& name, const std::vector<int64_t>& start,
                      const std::vector<int64_t>& count, Handle& memory) const {
    const std::string problem = hyperslab_problem(shape_of(dataset), start, count);
    if (!problem.empty()) throw Error(where(name) + ": " + problem);
    Handle space(H5Dget_space(dataset), H5Sclose);
    if (start.empty()) {  // a scalar dataset: the whole of it, one element
      memory = Handle(H5Screate(H5S_SCALAR), H5Sclose);
      return space;
    }
    const std::vector<hsize_t> offsets = to_hsize(start);
    const std::vector<hsize_t> sizes = to_hsize(count);
    memory = Handle(H5Screate_simple(static_cast<int>(sizes.size()), sizes.data(), nullptr), H5Sclose);
    if (!space.valid() || !memory.valid() ||
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, offsets.data(), nullptr, sizes.data(), nullptr) < 0) {
      throw Error(where(name) + ": cannot select block start " + join_shape(start) + ", count " + join_shape(count));
    }
    return space;
  }

  /// Reads a block converted to `memory_type` (H5T_NATIVE_FLOAT or H5T_NATIVE_DOUBLE).
  void read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
            hid_t memory_type, void* out) const {
    Hdf5Lock lock;
    const Handle dataset = open_dataset_for_reading(name);
    const Handle type(H5Dget_type(dataset.get()), H5Tclose);
    H5DatasetInfo info;
    describe_type(type.get(), info);
    if (info.dtype == DType::kOther) {
      throw InputError(where(name) + " holds " + info.type_description + ", expected numbers");
    }
    Handle memory;
    const Handle space = select_block<InputError>(dataset.get(), name, start, count, memory);
    if (H5Dread(dataset.get(), memory_type, memory.get(), space.get(), H5P_DEFAULT, out) < 0) {
      throw InputError(where(name) + ": reading block start " + join_shape(start) + ", count " + join_shape(count) +
                       " failed (corrupt or truncated file?)");
    }
  }

  /// A dataset by name, or the root group for "". Throws OutputError if there is no such object.
  Handle open_object(const std::string& name) const {
    if (name.empty()) return Handle(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
      throw OutputError(path + ": cannot write attributes of '" + name + "': no such dataset");
    }
    Handle object(H5Oopen(file.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!object.valid()) throw OutputError(path + ": cannot open '" + name + "' to write attributes");
    return object;
  }

  /// Creates (replacing any existing one) and writes an attribute of `object`.
  void write_attribute(const std::string& object_name, const std::string& key, hid_t file_type, hid_t space,
                       hid_t memory_type, const void* data) {
    Hdf5Lock lock;
    const Handle object = open_object(object_name);
    const std::string what = path + ": cannot write attribute '" + key + "' of " +
                             (object_name.empty() ? std::string("the root group") : "'" + object_name + "'");
    if (H5Aexists(object.get(), key.c_str()) > 0 && H5Adelete(object.get(), key.c_str()) < 0) {
      throw OutputError(what + " (cannot replace the existing one)");
    }
    const Handle attribute(H5Acreate2(object.get(), key.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT),
                           H5Aclose);
    // An empty vector has no data to write (and H5Awrite rejects a null buffer): the attribute's
    // zero-length dataspace says it all.
    if (!attribute.valid() || (data != nullptr && H5Awrite(attribute.get(), memory_type, data) < 0)) {
      throw OutputError(what);
    }
  }

  /// Variable-length UTF-8 strings: what h5py writes for Python str, and reads back as str.
  void write_string_attribute(const std::string& object_name, const std::string& key,
                              const std::vector<std::string>& values, bool scalar) {
    Hdf5Lock lock;
    const Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const hsize_t n = values.size();
    const Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    write_attribute(object_name, key, type.get(), space.get(), type.get(), pointers.data());
  }
};

// ---- H5File -------------------------------------------------------------------------------------

H5File::H5File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;
H5File::~H5File() = default;  // Impl's handles close under the lock

H5File H5File::open_read(const std::string& path) {
  Hdf5Lock lock;
  // H5Fis_hdf5 tells "not HDF5" apart from other failures, which H5Fopen would lump together.
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": " + why_not_hdf5(path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!impl->file.valid()) throw InputError(path + ": cannot open the HDF5 file (corrupt or truncated?)");
  return H5File(std::move(impl));
}

H5File H5File::create(const std::string& path) {
  Hdf5Lock lock;
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->writable = true;
  impl->file = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!impl->file.valid()) {
    const auto dir = std::filesystem::path(path).parent_path();
    throw OutputError("cannot create HDF5 file " + path + " (does the directory " +
                      (dir.empty() ? std::string(".") : dir.string()) + " exist and is it writable?)");
  }
  return H5File(std::move(impl));
}

const std::string& H5File::path() const {
  static const std::string kClosed;
  return impl_ ? impl_->path : kClosed;
}

bool H5File::has_dataset(const std::string& name) const {
  Hdf5Lock lock;
  return is_dataset(open_impl(impl_).file.get(), name);
}

std::vector<std::string> H5File::dataset_names() const {
  Hdf5Lock lock;
  return root_dataset_names(open_impl(impl_).file.get());
}

H5DatasetInfo H5File::dataset_info(const std::string& name) const {
  Hdf5Lock lock;
  const Handle dataset = open_impl(impl_).open_dataset_for_reading(name);
  H5DatasetInfo info;
  info.shape = shape_of(dataset.get());
  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  describe_type(type.get(), info);
  return info;
}

void H5File::read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                  float* out) const {
  open_impl(impl_).read(name, start, count, H5T_NATIVE_FLOAT, out);
}

void H5File::read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                  double* out) const {
  open_impl(impl_).read(name, start, count, H5T_NATIVE_DOUBLE, out);
}

void H5File::create_float_dataset(const std::string& name, const std::vector<int64_t>& shape,
                                  const std::vector<int64_t>& chunk, int gzip_level, bool extensible_first) {
  Hdf5Lock lock;
  Impl& impl = open_impl(impl_);
  const std::string what = impl.path + ": cannot create dataset '" + name + "' of shape " + join_shape(shape);
  if (shape.empty() || chunk.size() != shape.size()) {
    throw OutputError(what + ": chunk " + join_shape(chunk) + " needs one size per dimension");
  }
  if (gzip_level < 0 || gzip_level > 9) {
    throw OutputError(what + ": gzip level " + std::to_string(gzip_level) + " is not in 0..9");
  }
  std::vector<hsize_t> chunk_dims;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) throw OutputError(what + ": negative size");
    // A chunk may not exceed a fixed-size dimension, and HDF5 needs every chunk dimension >= 1.
    chunk_dims.push_back(static_cast<hsize_t>(std::clamp<int64_t>(chunk[i], 1, std::max<int64_t>(shape[i], 1))));
  }
  const std::vector<hsize_t> dims = to_hsize(shape);
  std::vector<hsize_t> max_dims = dims;
  if (extensible_first) max_dims.front() = H5S_UNLIMITED;
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max_dims.data()), H5Sclose);
  const Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (H5Pset_chunk(properties.get(), static_cast<int>(chunk_dims.size()), chunk_dims.data()) < 0) {
    throw OutputError(what + ": invalid chunk " + join_shape(chunk));
  }
  if (gzip_level > 0) {
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) {
      throw OutputError(what + ": this HDF5 library has no gzip (deflate) filter; use compression level 0");
    }
    // Shuffling the bytes of float32 values groups exponents together and compresses much better.
    H5Pset_shuffle(properties.get());
    H5Pset_deflate(properties.get(), static_cast<unsigned>(gzip_level));
  }
  if (H5Lexists(impl.file.get(), name.c_str(), H5P_DEFAULT) > 0) throw OutputError(what + ": it exists already");
  const Handle dataset(H5Dcreate2(impl.file.get(), name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                                  properties.get(), H5P_DEFAULT),
                       H5Dclose);
  if (!dataset.valid()) throw OutputError(what);
}

void H5File::write(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                   const float* data) {
  Hdf5Lock lock;
  const Impl& impl = open_impl(impl_);
  if (!is_dataset(impl.file.get(), name)) throw OutputError(impl.path + ": no dataset '" + name + "' to write to");
  const Handle dataset(H5Dopen2(impl.file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  Handle memory;
  const Handle space = impl.select_block<OutputError>(dataset.get(), name, start, count, memory);
  if (H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, memory.get(), space.get(), H5P_DEFAULT, data) < 0) {
    throw OutputError(impl.where(name) + ": writing block start " + join_shape(start) + ", count " +
                      join_shape(count) + " failed (disk full?)");
  }
}

void H5File::copy_chunk(const H5File& source, const std::string& name, const std::vector<int64_t>& from,
                        const std::vector<int64_t>& to) {
  Hdf5Lock lock;
  const Impl& in = open_impl(source.impl_);
  const Impl& out = open_impl(impl_);
  const Handle src = in.open_dataset_for_reading(name);
  if (!is_dataset(out.file.get(), name)) throw OutputError(out.path + ": no dataset '" + name + "' to write to");
  const Handle dst(H5Dopen2(out.file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  std::vector<hsize_t> offset_in(from.begin(), from.end());
  std::vector<hsize_t> offset_out(to.begin(), to.end());
  hsize_t bytes = 0;
  if (H5Dget_chunk_storage_size(src.get(), offset_in.data(), &bytes) < 0 || bytes == 0) {
    throw InputError(in.where(name) + ": no stored chunk at " + join_shape(from));
  }
  std::vector<unsigned char> buffer(static_cast<std::size_t>(bytes));
  uint32_t filters = 0;
  if (H5Dread_chunk(src.get(), H5P_DEFAULT, offset_in.data(), &filters, buffer.data()) < 0) {
    throw InputError(in.where(name) + ": cannot read the chunk at " + join_shape(from));
  }
  if (H5Dwrite_chunk(dst.get(), H5P_DEFAULT, filters, offset_out.data(), buffer.size(), buffer.data()) < 0) {
    throw OutputError(out.where(name) + ": writing the chunk at " + join_shape(to) + " failed (disk full?)");
  }
}

void H5File::write_attribute(const std::string& object, const std::string& key, const std::string& value) {
  open_impl(impl_).write_string_attribute(object, key, {value}, /*scalar=*/true);
}

void H5File::write_attribute(const std::string& object, const std::string& key,
                             const std::vector<std::string>& value) {
  open_impl(impl_).write_string_attribute(object, key, value, /*scalar=*/false);
}

void H5File::write_attribute(const std::string& object, const std::string& key, const std::vector<int64_t>& value) {
  Hdf5Lock lock;
  const hsize_t n = value.size();
  const Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  open_impl(impl_).write_attribute(object, key, H5T_STD_I64LE, space.get(), H5T_NATIVE_INT64, value.data());
}

void H5File::close() {
  if (!impl_) return;
  Hdf5Lock lock;
  // Take the Impl out first: whatever happens below, the object is empty afterwards.
  const std::unique_ptr<Impl> impl = std::move(impl_);
  if (!impl->file.valid()) return;
  const bool flushed = !impl->writable || H5Fflush(impl->file.get(), H5F_SCOPE_LOCAL) >= 0;
  const bool closed = H5Fclose(impl->file.release()) >= 0;
  if (!flushed || !closed) throw OutputError(impl->path + ": flushing and closing the file failed (disk full?)");
}

}  // namespace neuralom
