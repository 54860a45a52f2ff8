#include "neuralom/hdf5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <mutex>
#include <sstream>

#include "neuralom/errors.h"

namespace neuralom {
namespace {

// The distribution's HDF5 is not thread-safe: every call goes through this lock.
std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex m;
  return m;
}

// HDF5 prints its error stack to stderr by default; we report errors ourselves.
void silence_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

/// An HDF5 identifier closed by the matching H5?close on scope exit.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() {
    const hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

std::string join_shape(const std::vector<int64_t>& v) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  s << "]";
  return s.str();
}

void describe_type(hid_t type, H5DatasetInfo& info) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) {
    if (size == 4) {
      info.dtype = DType::kFloat32;
      info.type_description = "float32";
    } else if (size == 8) {
      info.dtype = DType::kFloat64;
      info.type_description = "float64";
    } else {
      info.dtype = DType::kOther;
      info.type_description = "float" + std::to_string(size * 8);
    }
  } else if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    info.type_description = std::string(is_signed ? "int" : "uint") + std::to_string(size * 8);
    switch (size) {
      case 1:
        info.dtype = is_signed ? DType::kInt8 : DType::kUInt8;
        break;
      case 2:
        info.dtype = is_signed ? DType::kInt16 : DType::kOther;
        break;
      case 4:
        info.dtype = is_signed ? DType::kInt32 : DType::kOther;
        break;
      case 8:
        info.dtype = is_signed ? DType::kInt64 : DType::kOther;
        break;
      default:
        info.dtype = DType::kOther;
    }
    // Unsigned integers still convert to float on read.
    if (info.dtype == DType::kOther) info.dtype = DType::kInt64;
  } else if (cls == H5T_ENUM) {
    info.dtype = DType::kBool;  // h5py stores numpy bool as an enum
    info.type_description = "bool";
  } else if (cls == H5T_STRING) {
    info.dtype = DType::kOther;
    info.type_description = "string";
  } else {
    info.dtype = DType::kOther;
    info.type_description = "non-numeric";
  }
}

herr_t collect_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

}  // namespace

std::string H5DatasetInfo::shape_string() const { return join_shape(shape); }

struct H5File::Impl {
  std::string path;
  Handle file;
  bool writable = false;

  Handle open_dataset(const std::string& name) const {
    if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
      std::vector<std::string> names;
      H5Literate(file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names);
      std::string found;
      for (const auto& n : names) found += (found.empty() ? "" : ", ") + n;
      throw InputError(path + ": no dataset '" + name + "' (found: " + (found.empty() ? "nothing" : found) + ")");
    }
    Handle d(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) throw InputError(path + ": '" + name + "' is not a readable dataset");
    return d;
  }

  std::vector<int64_t> shape_of(hid_t dataset) const {
    Handle space(H5Dget_space(dataset), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return std::vector<int64_t>(dims.begin(), dims.end());
  }

  template <typename Error>
  Handle select(hid_t dataset, const std::string& name, const std::vector<int64_t>& start,
                const std::vector<int64_t>& count, Handle& memspace) const {
    const std::vector<int64_t> shape = shape_of(dataset);
    bool ok = start.size() == shape.size() && count.size() == shape.size();
    for (std::size_t i = 0; ok && i < shape.size(); ++i) {
      ok = start[i] >= 0 && count[i] >= 1 && start[i] + count[i] <= shape[i];
    }
    if (!ok) {
      throw Error(path + ":/" + name + ": cannot access the block at " + join_shape(start) + " of size " +
                  join_shape(count) + " in a dataset of shape " + join_shape(shape));
    }
    Handle space(H5Dget_space(dataset), H5Sclose);
    const std::vector<hsize_t> s(start.begin(), start.end());
    const std::vector<hsize_t> c(count.begin(), count.end());
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr);
    memspace = Handle(H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr), H5Sclose);
    return space;
  }

  void read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
            hid_t mem_type, void* out) const {
    std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    const Handle d = open_dataset(name);
    Handle type(H5Dget_type(d.get()), H5Tclose);
    H5DatasetInfo info;
    describe_type(type.get(), info);
    if (info.dtype == DType::kOther) {
      throw InputError(path + ":/" + name + " has element type " + info.type_description + ", expected numbers");
    }
    Handle memspace;
    const Handle space = select<InputError>(d.get(), name, start, count, memspace);
    if (H5Dread(d.get(), mem_type, memspace.get(), space.get(), H5P_DEFAULT, out) < 0) {
      throw InputError(path + ":/" + name + ": read failed (corrupt or truncated file?)");
    }
  }

  void write_string_attribute(hid_t object, const std::string& key, const std::vector<std::string>& values,
                              bool scalar) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    const hsize_t n = values.size();
    Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
    if (H5Aexists(object, key.c_str()) > 0) H5Adelete(object, key.c_str());
    Handle attr(H5Acreate2(object, key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    if (!attr.valid() || H5Awrite(attr.get(), type.get(), ptrs.data()) < 0) {
      throw OutputError(path + ": cannot write attribute '" + key + "'");
    }
  }

  Handle object(const std::string& name) const {
    if (name.empty()) return Handle(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    return Handle(H5Oopen(file.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
  }
};

H5File::H5File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;

H5File::~H5File() {
  if (impl_) {
    std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
    impl_->file.reset();
  }
}

H5File H5File::open_read(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  silence_hdf5();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) throw InputError(path + ": file not found or not readable");
    std::fclose(f);
    throw InputError(path + ": not an HDF5 file");
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!impl->file.valid()) throw InputError(path + ": cannot open the HDF5 file");
  return H5File(std::move(impl));
}

H5File H5File::create(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  silence_hdf5();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->writable = true;
  impl->file = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!impl->file.valid()) throw OutputError("cannot create HDF5 file " + path);
  return H5File(std::move(impl));
}

const std::string& H5File::path() const { return impl_->path; }

bool H5File::has_dataset(const std::string& name) const {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (H5Lexists(impl_->file.get(), name.c_str(), H5P_DEFAULT) <= 0) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(impl_->file.get(), name.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

std::vector<std::string> H5File::dataset_names() const {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  std::vector<std::string> names;
  H5Literate(impl_->file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names);
  std::vector<std::string> datasets;
  for (const auto& n : names) {
    if (has_dataset(n)) datasets.push_back(n);
  }
  std::sort(datasets.begin(), datasets.end());
  return datasets;
}

H5DatasetInfo H5File::dataset_info(const std::string& name) const {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const Handle d = impl_->open_dataset(name);
  H5DatasetInfo info;
  info.shape = impl_->shape_of(d.get());
  Handle type(H5Dget_type(d.get()), H5Tclose);
  describe_type(type.get(), info);
  return info;
}

void H5File::read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                  float* out) const {
  impl_->read(name, start, count, H5T_NATIVE_FLOAT, out);
}

void H5File::read(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                  double* out) const {
  impl_->read(name, start, count, H5T_NATIVE_DOUBLE, out);
}

void H5File::create_float_dataset(const std::string& name, const std::vector<int64_t>& shape,
                                  const std::vector<int64_t>& chunk, int gzip_level) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (shape.empty() || chunk.size() != shape.size()) {
    throw OutputError(impl_->path + ":/" + name + ": chunk " + join_shape(chunk) + " does not fit shape " +
                      join_shape(shape));
  }
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  std::vector<hsize_t> chunks;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    chunks.push_back(static_cast<hsize_t>(std::clamp<int64_t>(chunk[i], 1, std::max<int64_t>(shape[i], 1))));
  }
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(props.get(), static_cast<int>(chunks.size()), chunks.data());
  if (gzip_level > 0) {
    H5Pset_shuffle(props.get());
    H5Pset_deflate(props.get(), static_cast<unsigned>(std::min(gzip_level, 9)));
  }
  Handle d(H5Dcreate2(impl_->file.get(), name.c_str(), H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, props.get(),
                      H5P_DEFAULT),
           H5Dclose);
  if (!d.valid()) throw OutputError(impl_->path + ": cannot create dataset '" + name + "' of shape " + join_shape(shape));
}

void H5File::write(const std::string& name, const std::vector<int64_t>& start, const std::vector<int64_t>& count,
                   const float* data) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  Handle d(H5Dopen2(impl_->file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid()) throw OutputError(impl_->path + ": no dataset '" + name + "' to write to");
  Handle memspace;
  const Handle space = impl_->select<OutputError>(d.get(), name, start, count, memspace);
  if (H5Dwrite(d.get(), H5T_NATIVE_FLOAT, memspace.get(), space.get(), H5P_DEFAULT, data) < 0) {
    throw OutputError(impl_->path + ":/" + name + ": write failed (disk full?)");
  }
}

void H5File::write_attribute(const std::string& object, const std::string& key, const std::string& value) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const Handle o = impl_->object(object);
  impl_->write_string_attribute(o.get(), key, {value}, /*scalar=*/true);
}

void H5File::write_attribute(const std::string& object, const std::string& key, const std::vector<std::string>& value) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const Handle o = impl_->object(object);
  impl_->write_string_attribute(o.get(), key, value, /*scalar=*/false);
}

void H5File::write_attribute(const std::string& object, const std::string& key, const std::vector<int64_t>& value) {
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const Handle o = impl_->object(object);
  const hsize_t n = value.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  if (H5Aexists(o.get(), key.c_str()) > 0) H5Adelete(o.get(), key.c_str());
  Handle attr(H5Acreate2(o.get(), key.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || H5Awrite(attr.get(), H5T_NATIVE_INT64, value.data()) < 0) {
    throw OutputError(impl_->path + ": cannot write attribute '" + key + "'");
  }
}

void H5File::close() {
  if (!impl_) return;
  std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (impl_->file.valid()) {
    const bool flushed = !impl_->writable || H5Fflush(impl_->file.get(), H5F_SCOPE_LOCAL) >= 0;
    const hid_t id = impl_->file.release();
    const bool closed = H5Fclose(id) >= 0;
    if (!flushed || !closed) throw OutputError(impl_->path + ": flushing and closing the file failed (disk full?)");
  }
  impl_.reset();
}

}  // namespace neuralom
