// H5File: hyperslab reads and writes with type conversion, attributes, error messages, threads.
//
// Files with types H5File cannot write (float64, integers, enums, strings, groups) are made with
// the HDF5 C API directly, as h5py would make them; so are the checks of attributes and filters.
// The file is longer than most (~600 lines) because every test here shares those raw-C-API
// helpers, and the error cases each assert a whole message; split it by H5File's operations if
// it grows further.
#include "neuralom/io/hdf5_file.h"

#include <hdf5.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"
#include "temp_dir.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

// ---- helpers ------------------------------------------------------------------------------------

using testing::error_message;
using testing::TempDir;

/// An hid_t closed on scope exit (test code only; the library has its own).
class Id {
 public:
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/// Writes datasets of any type with the raw C API.
class RawFile {
 public:
  explicit RawFile(const std::string& path)
      : file_(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose) {}

  void add(const std::string& name, hid_t file_type, hid_t memory_type, const std::vector<hsize_t>& dims,
           const void* data) {
    const Id space(dims.empty() ? H5Screate(H5S_SCALAR)
                                : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                   H5Sclose);
    const Id dataset(H5Dcreate2(file_.get(), name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT),
                     H5Dclose);
    ASSERT_GE(dataset.get(), 0) << name;
    ASSERT_GE(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0) << name;
  }

  void add_group(const std::string& name) {
    const Id group(H5Gcreate2(file_.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    ASSERT_GE(group.get(), 0) << name;
  }

  hid_t get() const { return file_.get(); }

 private:
  Id file_;
};

/// Opens an attribute of `object` ("" = root) of a closed file, for reading it back.
class RawAttribute {
 public:
  RawAttribute(const std::string& path, const std::string& object, const std::string& key)
      : file_(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose),
        object_(H5Oopen(file_.get(), object.empty() ? "/" : object.c_str(), H5P_DEFAULT), H5Oclose),
        attribute_(H5Aopen(object_.get(), key.c_str(), H5P_DEFAULT), H5Aclose) {}

  bool valid() const { return attribute_.get() >= 0; }

  hssize_t size() const {
    const Id space(H5Aget_space(attribute_.get()), H5Sclose);
    return H5Sget_simple_extent_npoints(space.get());
  }

  bool is_scalar() const {
    const Id space(H5Aget_space(attribute_.get()), H5Sclose);
    return H5Sget_simple_extent_type(space.get()) == H5S_SCALAR;
  }

  std::vector<int64_t> int64s() const {
    std::vector<int64_t> values(static_cast<std::size_t>(size()));
    if (!values.empty()) H5Aread(attribute_.get(), H5T_NATIVE_INT64, values.data());
    return values;
  }

  std::vector<std::string> strings() const {
    const Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    std::vector<char*> pointers(static_cast<std::size_t>(size()), nullptr);
    if (pointers.empty()) return {};
    H5Aread(attribute_.get(), type.get(), pointers.data());
    std::vector<std::string> values(pointers.begin(), pointers.end());
    const Id space(H5Aget_space(attribute_.get()), H5Sclose);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
    return values;
  }

 private:
  Id file_;
  Id object_;
  Id attribute_;
};

/// The value stored at flat index i of the test datasets: distinct and exact in float32.
float value_at(std::size_t i) { return static_cast<float>(i) * 0.25f - 3.0f; }

std::vector<float> sequence(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = value_at(i);
  return v;
}

const std::vector<int64_t> kShape{2, 3, 4, 5};  // [time, channel, row, column]

/// Flat C-order index into kShape.
std::size_t flat(int64_t t, int64_t c, int64_t r, int64_t x) {
  return static_cast<std::size_t>(((t * kShape[1] + c) * kShape[2] + r) * kShape[3] + x);
}

/// A file with float32 "fields" of kShape holding value_at(flat index), written through H5File.
void write_fields_file(const std::string& path, int gzip_level = 0) {
  H5File file = H5File::create(path);
  file.create_float_dataset("fields", kShape, {1, 1, 4, 5}, gzip_level);
  const std::vector<float> data = sequence(120);
  file.write("fields", {0, 0, 0, 0}, kShape, data.data());
  file.close();
}

// ---- reading and writing ------------------------------------------------------------------------

TEST(H5FileTest, WritesAndReadsFloat32Hyperslabs) {
  const TempDir dir;
  const std::string path = dir.file("fields.h5");
  write_fields_file(path);

  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.path(), path);
  const H5DatasetInfo info = file.dataset_info("fields");
  EXPECT_EQ(info.shape, kShape);
  EXPECT_EQ(info.dtype, DType::kFloat32);
  EXPECT_EQ(info.type_description, "float32");
  EXPECT_EQ(info.shape_string(), "[2, 3, 4, 5]");

  // Time 1, channels 1..2, rows 2..3, columns 1..3.
  std::vector<float> block(2 * 2 * 3);
  file.read("fields", {1, 1, 2, 1}, {1, 2, 2, 3}, block.data());
  std::size_t k = 0;
  for (int64_t c = 1; c < 3; ++c) {
    for (int64_t r = 2; r < 4; ++r) {
      for (int64_t x = 1; x < 4; ++x) EXPECT_EQ(block[k++], value_at(flat(1, c, r, x))) << c << r << x;
    }
  }

  // The whole dataset, as float64.
  std::vector<double> all(120);
  file.read("fields", {0, 0, 0, 0}, kShape, all.data());
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<double>(value_at(i)));
}

TEST(H5FileTest, PartialWritesLandWhereTheyAreAimed) {
  const TempDir dir;
  const std::string path = dir.file("partial.h5");
  {
    H5File file = H5File::create(path);
    file.create_float_dataset("x", {3, 4}, {1, 4});
    const std::vector<float> row{1.5f, 2.5f, 3.5f, 4.5f};
    file.write("x", {1, 0}, {1, 4}, row.data());
    const std::vector<float> corner{9.0f};
    file.write("x", {2, 3}, {1, 1}, corner.data());
    file.close();
  }
  std::vector<float> all(12);
  H5File::open_read(path).read("x", {0, 0}, {3, 4}, all.data());
  // Unwritten elements hold HDF5's default fill value, 0.
  EXPECT_EQ(all, (std::vector<float>{0, 0, 0, 0, 1.5f, 2.5f, 3.5f, 4.5f, 0, 0, 0, 9.0f}));
}

TEST(H5FileTest, GzipDatasetsAreShuffledDeflatedAndChunked) {
  const TempDir dir;
  const std::string path = dir.file("compressed.h5");
  write_fields_file(path, /*gzip_level=*/6);

  std::vector<float> all(120);
  H5File::open_read(path).read("fields", {0, 0, 0, 0}, kShape, all.data());
  EXPECT_EQ(all, sequence(120));

  const Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const Id dataset(H5Dopen2(file.get(), "fields", H5P_DEFAULT), H5Dclose);
  const Id properties(H5Dget_create_plist(dataset.get()), H5Pclose);
  ASSERT_EQ(H5Pget_nfilters(properties.get()), 2);
  unsigned flags = 0;
  std::size_t n_values = 1;
  unsigned level = 0;
  EXPECT_EQ(H5Pget_filter2(properties.get(), 0, &flags, &n_values, &level, 0, nullptr, nullptr), H5Z_FILTER_SHUFFLE);
  n_values = 1;
  EXPECT_EQ(H5Pget_filter2(properties.get(), 1, &flags, &n_values, &level, 0, nullptr, nullptr), H5Z_FILTER_DEFLATE);
  EXPECT_EQ(level, 6u);
  hsize_t chunk[4] = {};
  ASSERT_EQ(H5Pget_chunk(properties.get(), 4, chunk), 4);
  EXPECT_EQ(std::vector<hsize_t>(chunk, chunk + 4), (std::vector<hsize_t>{1, 1, 4, 5}));
}

TEST(H5FileTest, ChunksAreClampedToTheShape) {
  const TempDir dir;
  const std::string path = dir.file("clamped.h5");
  {
    H5File file = H5File::create(path);
    file.create_float_dataset("x", {2, 3}, {10, 0});
    file.close();
  }
  const Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const Id dataset(H5Dopen2(file.get(), "x", H5P_DEFAULT), H5Dclose);
  const Id properties(H5Dget_create_plist(dataset.get()), H5Pclose);
  hsize_t chunk[2] = {};
  ASSERT_EQ(H5Pget_chunk(properties.get(), 2, chunk), 2);
  EXPECT_EQ(chunk[0], 2u);
  EXPECT_EQ(chunk[1], 1u);
  EXPECT_EQ(H5Pget_nfilters(properties.get()), 0);
}

TEST(H5FileTest, ReadsFloat64AsDoubleExactlyAndAsFloatRounded) {
  const TempDir dir;
  const std::string path = dir.file("f64.h5");
  const std::vector<double> values{0.1, -2.5, 1e-30, 123456.789, 1.0 / 3.0, 7.0};
  {
    RawFile raw(path);
    raw.add("stats", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 3}, values.data());
  }
  const H5File file = H5File::open_read(path);
  const H5DatasetInfo info = file.dataset_info("stats");
  EXPECT_EQ(info.dtype, DType::kFloat64);
  EXPECT_EQ(info.type_description, "float64");

  std::vector<double> as_double(6);
  file.read("stats", {0, 0}, {2, 3}, as_double.data());
  EXPECT_EQ(as_double, values);

  std::vector<float> as_float(3);
  file.read("stats", {1, 0}, {1, 3}, as_float.data());
  EXPECT_EQ(as_float[0], static_cast<float>(123456.789));
  EXPECT_EQ(as_float[1], static_cast<float>(1.0 / 3.0));
  EXPECT_EQ(as_float[2], 7.0f);
}

TEST(H5FileTest, ConvertsIntegerAndBoolDatasetsOnRead) {
  const TempDir dir;
  const std::string path = dir.file("ints.h5");
  const std::vector<int16_t> shorts{-3, 0, 7, 32767};
  const std::vector<uint32_t> unsigned_ints{0, 1, 4000000000u};
  const std::vector<int8_t> flags{0, 1, 1, 0};
  {
    RawFile raw(path);
    raw.add("shorts", H5T_STD_I16LE, H5T_NATIVE_INT16, {4}, shorts.data());
    raw.add("unsigned", H5T_STD_U32BE, H5T_NATIVE_UINT32, {3}, unsigned_ints.data());
    // numpy bool as h5py stores it: an int8 enum {FALSE = 0, TRUE = 1}.
    const Id boolean(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
    int8_t v = 0;
    H5Tenum_insert(boolean.get(), "FALSE", &v);
    v = 1;
    H5Tenum_insert(boolean.get(), "TRUE", &v);
    raw.add("mask", boolean.get(), boolean.get(), {4}, flags.data());
  }
  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.dataset_info("shorts").dtype, DType::kInt16);
  EXPECT_EQ(file.dataset_info("shorts").type_description, "int16");
  EXPECT_EQ(file.dataset_info("unsigned").type_description, "uint32");
  EXPECT_EQ(file.dataset_info("mask").dtype, DType::kBool);
  EXPECT_EQ(file.dataset_info("mask").type_description, "bool");

  std::vector<float> out(4);
  file.read("shorts", {0}, {4}, out.data());
  EXPECT_EQ(out, (std::vector<float>{-3, 0, 7, 32767}));
  std::vector<double> wide(3);
  file.read("unsigned", {0}, {3}, wide.data());  // big-endian on disk, converted by HDF5
  EXPECT_EQ(wide, (std::vector<double>{0, 1, 4000000000.0}));
  file.read("mask", {0}, {4}, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 1, 1, 0}));
}

/// A 16-bit float type built as h5py builds numpy's float16 (IEEE binary16), or another layout.
/// The caller closes it.
hid_t half_type(std::size_t exponent_size, std::size_t mantissa_size, std::size_t ebias) {
  const hid_t type = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(type, 15, mantissa_size, exponent_size, 0, mantissa_size);
  H5Tset_size(type, 2);
  H5Tset_ebias(type, ebias);
  return type;
}

TEST(H5FileTest, ReadsFloat16ExactlyAndRefusesOther16BitFloats) {
  const TempDir dir;
  const std::string path = dir.file("half.h5");
  // 1, −2, 1/3 rounded to float16, the smallest subnormal 2^−24, the largest finite 65504, −inf, NaN.
  const std::vector<uint16_t> bits{0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0xFC00, 0x7E00};
  {
    RawFile raw(path);
    const Id half(half_type(5, 10, 15), H5Tclose);
    raw.add("half", half.get(), half.get(), {7}, bits.data());
    const Id brain(half_type(8, 7, 127), H5Tclose);  // bfloat16's layout
    raw.add("bfloat16", brain.get(), brain.get(), {7}, bits.data());
  }
  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.dataset_info("half").dtype, DType::kFloat16);
  EXPECT_EQ(file.dataset_info("half").type_description, "float16");
  std::vector<float> out(7);
  file.read("half", {0}, {7}, out.data());
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(std::vector<float>(out.begin(), out.end() - 1),
            (std::vector<float>{1.0F, -2.0F, 0.333251953125F, std::ldexp(1.0F, -24), 65504.0F, -inf}));
  EXPECT_TRUE(std::isnan(out[6]));

  EXPECT_EQ(file.dataset_info("bfloat16").dtype, DType::kOther);
  EXPECT_EQ(file.dataset_info("bfloat16").type_description, "a 16-bit float that is not IEEE float16 (bfloat16?)");
  EXPECT_EQ(error_message<InputError>([&] { file.read("bfloat16", {0}, {7}, out.data()); }),
            path + ":/bfloat16 holds a 16-bit float that is not IEEE float16 (bfloat16?), expected numbers");
}

TEST(H5FileTest, ScalarDatasetsHaveAnEmptyShape) {
  const TempDir dir;
  const std::string path = dir.file("scalar.h5");
  const double value = 42.5;
  {
    RawFile raw(path);
    raw.add("answer", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {}, &value);
  }
  const H5File file = H5File::open_read(path);
  EXPECT_TRUE(file.dataset_info("answer").shape.empty());
  EXPECT_EQ(file.dataset_info("answer").shape_string(), "[]");
  float out = 0;
  file.read("answer", {}, {}, &out);
  EXPECT_EQ(out, 42.5f);
}

// ---- inspecting ---------------------------------------------------------------------------------

TEST(H5FileTest, ListsRootDatasetsSortedWithoutGroups) {
  const TempDir dir;
  const std::string path = dir.file("listing.h5");
  const float x = 1.0f;
  {
    RawFile raw(path);
    raw.add("zeta", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &x);
    raw.add("alpha", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &x);
    raw.add_group("group");
    raw.add("group/inner", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &x);
  }
  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.dataset_names(), (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_TRUE(file.has_dataset("alpha"));
  EXPECT_TRUE(file.has_dataset("group/inner"));
  EXPECT_FALSE(file.has_dataset("group"));
  EXPECT_FALSE(file.has_dataset("missing"));
  EXPECT_FALSE(file.has_dataset("missing/inner"));
  EXPECT_FALSE(file.has_dataset(""));
}

// ---- errors -------------------------------------------------------------------------------------

TEST(H5FileTest, MissingFileIsAnInputError) {
  const TempDir dir;
  const std::string path = dir.file("2020.h5");
  EXPECT_EQ(error_message<InputError>([&] { H5File::open_read(path); }), path + ": no such file");
}

TEST(H5FileTest, NonHdf5FileAndDirectoryAreInputErrors) {
  const TempDir dir;
  const std::string text = dir.file("notes.h5");
  std::ofstream(text) << "this is not HDF5\n";
  EXPECT_EQ(error_message<InputError>([&] { H5File::open_read(text); }), text + ": not an HDF5 file");
  const std::string folder = dir.file("");
  EXPECT_NE(error_message<InputError>([&] { H5File::open_read(folder); }).find("is a directory"), std::string::npos);
}

TEST(H5FileTest, MissingDatasetListsWhatTheFileHas) {
  const TempDir dir;
  const std::string path = dir.file("other.h5");
  const float x = 1.0f;
  {
    RawFile raw(path);
    raw.add("b", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &x);
    raw.add("a", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1}, &x);
  }
  const H5File file = H5File::open_read(path);
  const std::string expected = path + ": no dataset 'fields' (found: a, b)";
  EXPECT_EQ(error_message<InputError>([&] { file.dataset_info("fields"); }), expected);
  float out = 0;
  EXPECT_EQ(error_message<InputError>([&] { file.read("fields", {0}, {1}, &out); }), expected);
}

TEST(H5FileTest, MissingDatasetInAnEmptyFile) {
  const TempDir dir;
  const std::string path = dir.file("empty.h5");
  H5File::create(path).close();
  const H5File file = H5File::open_read(path);
  EXPECT_TRUE(file.dataset_names().empty());
  EXPECT_EQ(error_message<InputError>([&] { file.dataset_info("fields"); }),
            path + ": no dataset 'fields' (found: no datasets)");
}

TEST(H5FileTest, NonNumericDatasetIsRejectedOnRead) {
  const TempDir dir;
  const std::string path = dir.file("strings.h5");
  {
    RawFile raw(path);
    const Id type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), 4);
    raw.add("names", type.get(), type.get(), {2}, "abcdefgh");
  }
  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.dataset_info("names").dtype, DType::kOther);
  EXPECT_EQ(file.dataset_info("names").type_description, "string");
  float out[2] = {};
  EXPECT_EQ(error_message<InputError>([&] { file.read("names", {0}, {2}, out); }),
            path + ":/names holds string, expected numbers");
}

TEST(H5FileTest, OutOfRangeHyperslabNamesTheDimensionAndShape) {
  const TempDir dir;
  const std::string path = dir.file("fields.h5");
  write_fields_file(path);
  const H5File file = H5File::open_read(path);
  std::vector<float> out(120);

  EXPECT_EQ(error_message<InputError>([&] { file.read("fields", {0, 0, 3, 0}, {1, 1, 2, 5}, out.data()); }),
            path + ":/fields: block start [0, 0, 3, 0], count [1, 1, 2, 5] is out of range in dimension 2 "
                   "(size 4) of a dataset of shape [2, 3, 4, 5]");
  EXPECT_EQ(error_message<InputError>([&] { file.read("fields", {0, 0, 0}, {1, 1, 1}, out.data()); }),
            path + ":/fields: block start [0, 0, 0], count [1, 1, 1] does not match the dataset's 4 dimensions "
                   "(shape [2, 3, 4, 5])");
  // Start and count of different ranks.
  EXPECT_THROW(file.read("fields", {0, 0, 0, 0}, {1, 1, 1}, out.data()), InputError);
  // Negative start, empty count, a start past the end, an absurd count that would overflow.
  EXPECT_THROW(file.read("fields", {-1, 0, 0, 0}, {1, 1, 1, 1}, out.data()), InputError);
  EXPECT_THROW(file.read("fields", {0, 0, 0, 0}, {1, 0, 1, 1}, out.data()), InputError);
  EXPECT_THROW(file.read("fields", {2, 0, 0, 0}, {1, 1, 1, 1}, out.data()), InputError);
  EXPECT_THROW(file.read("fields", {1, 0, 0, 0}, {INT64_MAX, 1, 1, 1}, out.data()), InputError);
  // The last element is in range.
  float last = 0;
  file.read("fields", {1, 2, 3, 4}, {1, 1, 1, 1}, &last);
  EXPECT_EQ(last, value_at(119));
}

TEST(H5FileTest, BadWritesAreOutputErrors) {
  const TempDir dir;
  const std::string path = dir.file("out.h5");
  H5File file = H5File::create(path);
  file.create_float_dataset("x", {2, 3}, {1, 3});
  const std::vector<float> data(6, 1.0f);
  const std::string message = error_message<OutputError>([&] { file.write("x", {1, 0}, {2, 3}, data.data()); });
  EXPECT_EQ(message, path + ":/x: block start [1, 0], count [2, 3] is out of range in dimension 0 (size 2) of a "
                            "dataset of shape [2, 3]");
  EXPECT_EQ(error_message<OutputError>([&] { file.write("y", {0, 0}, {1, 1}, data.data()); }),
            path + ": no dataset 'y' to write to");
}

TEST(H5FileTest, CreateDatasetRejectsBadArguments) {
  const TempDir dir;
  const std::string path = dir.file("out.h5");
  H5File file = H5File::create(path);
  EXPECT_NE(error_message<OutputError>([&] { file.create_float_dataset("x", {2, 3}, {1}); })
                .find("chunk [1] needs one size per dimension"),
            std::string::npos);
  EXPECT_NE(error_message<OutputError>([&] { file.create_float_dataset("x", {2, 3}, {1, 3}, 10); })
                .find("gzip level 10 is not in 0..9"),
            std::string::npos);
  EXPECT_THROW(file.create_float_dataset("x", {2, 3}, {1, 3}, -1), OutputError);
  file.create_float_dataset("x", {2, 3}, {1, 3});
  EXPECT_NE(error_message<OutputError>([&] { file.create_float_dataset("x", {2, 3}, {1, 3}); })
                .find("cannot create dataset 'x' of shape [2, 3]: it exists already"),
            std::string::npos);
}

TEST(H5FileTest, CreateInAMissingDirectoryIsAnOutputError) {
  const TempDir dir;
  const std::string path = dir.file("missing/out.h5");
  EXPECT_NE(error_message<OutputError>([&] { H5File::create(path); }).find("cannot create HDF5 file " + path),
            std::string::npos);
}

// ---- attributes ---------------------------------------------------------------------------------

TEST(H5FileTest, WritesStringAndIntegerAttributes) {
  const TempDir dir;
  const std::string path = dir.file("attrs.h5");
  {
    H5File file = H5File::create(path);
    file.create_float_dataset("predicted", {1, 2}, {1, 2});
    file.write_attribute("", "mode", "simulation");
    file.write_attribute("", "mode", "forecast");  // replaces
    file.write_attribute("predicted", "leads", std::vector<int64_t>{0, 1, 10, -4});
    file.write_attribute("predicted", "variables", std::vector<std::string>{"so", "thetao", "zos (m)"});
    file.write_attribute("predicted", "nothing", std::vector<int64_t>{});
    file.write_attribute("predicted", "no_names", std::vector<std::string>{});
    file.write_attribute("predicted", "unicode", "température");
    file.close();
  }
  const RawAttribute mode(path, "", "mode");
  ASSERT_TRUE(mode.valid());
  EXPECT_TRUE(mode.is_scalar());
  EXPECT_EQ(mode.strings(), std::vector<std::string>{"forecast"});

  EXPECT_EQ(RawAttribute(path, "predicted", "leads").int64s(), (std::vector<int64_t>{0, 1, 10, -4}));
  EXPECT_EQ(RawAttribute(path, "predicted", "variables").strings(),
            (std::vector<std::string>{"so", "thetao", "zos (m)"}));
  EXPECT_EQ(RawAttribute(path, "predicted", "nothing").size(), 0);
  EXPECT_EQ(RawAttribute(path, "predicted", "no_names").size(), 0);
  EXPECT_EQ(RawAttribute(path, "predicted", "unicode").strings(), std::vector<std::string>{"température"});
}

TEST(H5FileTest, AttributeOfAMissingObjectIsAnOutputError) {
  const TempDir dir;
  const std::string path = dir.file("attrs.h5");
  H5File file = H5File::create(path);
  EXPECT_EQ(error_message<OutputError>([&] { file.write_attribute("ghost", "k", "v"); }),
            path + ": cannot write attributes of 'ghost': no such dataset");
}

// ---- lifetime -----------------------------------------------------------------------------------

TEST(H5FileTest, CloseAndMoveLeaveAnEmptyObject) {
  const TempDir dir;
  const std::string path = dir.file("life.h5");
  H5File file = H5File::create(path);
  file.create_float_dataset("x", {1}, {1});
  H5File moved = std::move(file);
  EXPECT_TRUE(moved.has_dataset("x"));
  EXPECT_THROW(file.has_dataset("x"), std::logic_error);  // NOLINT(bugprone-use-after-move): on purpose
  moved.close();
  EXPECT_EQ(moved.path(), "");
  EXPECT_THROW(moved.dataset_names(), std::logic_error);
  moved.close();  // closing twice is harmless
  EXPECT_TRUE(H5File::open_read(path).has_dataset("x"));
}

// ---- threads ------------------------------------------------------------------------------------

TEST(H5FileTest, ConcurrentReadsAndAWriteFromSeveralThreads) {
  const TempDir dir;
  const std::string path = dir.file("shared.h5");
  write_fields_file(path);
  const H5File shared = H5File::open_read(path);

  // Two readers of one file, each its own blocks, while a third thread writes another file: the
  // engine's prefetch thread reads while the results writer writes.
  auto reader = [&](int64_t t, int* failures) {
    std::vector<float> block(3 * 4 * 5);
    for (int round = 0; round < 200; ++round) {
      shared.read("fields", {t, 0, 0, 0}, {1, 3, 4, 5}, block.data());
      for (std::size_t i = 0; i < block.size(); ++i) {
        if (block[i] != value_at(static_cast<std::size_t>(t) * 60 + i)) ++*failures;
      }
    }
  };
  int failures0 = 0;
  int failures1 = 0;
  std::thread first(reader, 0, &failures0);
  std::thread second(reader, 1, &failures1);
  std::thread writer([&] {
    H5File out = H5File::create(dir.file("written.h5"));
    out.create_float_dataset("x", {200, 60}, {1, 60}, 1);
    const std::vector<float> row = sequence(60);
    for (int64_t r = 0; r < 200; ++r) out.write("x", {r, 0}, {1, 60}, row.data());
    out.close();
  });
  first.join();
  second.join();
  writer.join();
  EXPECT_EQ(failures0, 0);
  EXPECT_EQ(failures1, 0);

  std::vector<float> last(60);
  H5File::open_read(dir.file("written.h5")).read("x", {199, 0}, {1, 60}, last.data());
  EXPECT_EQ(last, sequence(60));
}

TEST(H5FileTest, HdfErrorStacksAreNotPrintedFromAnyThread) {
  const TempDir dir;
  const std::string path = dir.file("fields.h5");
  write_fields_file(path);
  ::testing::internal::CaptureStderr();
  // A thread-safe HDF5 keeps its error-printing switch per thread: a new thread must be silenced too.
  std::thread([&] {
    EXPECT_THROW(H5File::open_read(dir.file("missing.h5")), InputError);
    const H5File file = H5File::open_read(path);
    EXPECT_THROW(file.dataset_info("nope"), InputError);
    EXPECT_FALSE(file.has_dataset("a/b/c"));
  }).join();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace neuralom
