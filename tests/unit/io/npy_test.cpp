// .npy files: strict header parsing and positioned reads with conversion.
//
// Test files are assembled byte by byte here, exactly as numpy lays them out, so that the tests
// need no Python and can also build the malformed files numpy would never write.
#include "neuralom/io/npy.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstdint>
#include <cstring>
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

// ---- helpers ------------------------------------------------------------------------------------

using testing::error_message;
using testing::TempDir;

/// A .npy file: magic, version, little-endian header length, the header dictionary padded with
/// spaces and a newline so that the data starts on a 64-byte boundary (as numpy does), the data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_bytes; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return out + header + data;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape +
         ", }";
}

/// The host's (little-endian) bytes of `values`, or their big-endian bytes.
template <typename T>
std::string bytes_of(const std::vector<T>& values, bool big_endian = false) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  if (big_endian) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::reverse(out.begin() + static_cast<std::ptrdiff_t>(i * sizeof(T)),
                   out.begin() + static_cast<std::ptrdiff_t>((i + 1) * sizeof(T)));
    }
  }
  return out;
}

/// The InputError message read_npy_info gives for a file with these bytes.
std::string header_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.write("bad.npy", bytes);
  return error_message<InputError>([&] { read_npy_info(path); });
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- headers ------------------------------------------------------------------------------------

TEST(NpyHeaderTest, ParsesALittleEndianFloat32Header) {
  const TempDir dir;
  const std::vector<float> values{1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f};
  const std::string path = dir.write("a.npy", npy_bytes(dict("<f4", "(2, 3)"), bytes_of(values)));
  const NpyInfo info = read_npy_info(path);
  EXPECT_EQ(info.path, path);
  EXPECT_EQ(info.descr, "<f4");
  EXPECT_EQ(info.dtype, DType::kFloat32);
  EXPECT_EQ(info.itemsize, 4);
  EXPECT_FALSE(info.byteswap);
  EXPECT_FALSE(info.fortran_order);
  EXPECT_EQ(info.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(info.shape_string(), "[2, 3]");
  EXPECT_EQ(info.numel(), 6);
  EXPECT_EQ(info.data_offset, 128);  // the header is padded to a multiple of 64 bytes
}

TEST(NpyHeaderTest, ParsesShapes) {
  const TempDir dir;
  struct Case {
    std::string shape;
    std::vector<int64_t> expected;
  };
  const Case cases[] = {
      {"()", {}},                 // a 0-d array holds one element
      {"(5,)", {5}},              // the 1-tuple needs its comma
      {"(0, 3)", {0, 3}},         // empty arrays are fine
      {"(2,3,4)", {2, 3, 4}},     // no spaces
      {"( 1 , 2 , )", {1, 2}},    // spaces and a trailing comma
      {"(3L, 1L)", {3, 1}},       // Python 2 longs
      {"(1, 97, 1, 1)", {1, 97, 1, 1}},
  };
  for (const auto& c : cases) {
    int64_t n = 1;
    for (const int64_t d : c.expected) n *= d;
    const std::string path =
        dir.write("s.npy", npy_bytes(dict("<f8", c.shape), std::string(static_cast<std::size_t>(n) * 8, '\0')));
    const NpyInfo info = read_npy_info(path);
    EXPECT_EQ(info.shape, c.expected) << c.shape;
    EXPECT_EQ(info.numel(), n) << c.shape;
  }
}

TEST(NpyHeaderTest, AcceptsVersion2And3Headers) {
  const TempDir dir;
  const std::vector<double> values{1.0, 2.0};
  for (const int major : {2, 3}) {
    const std::string path = dir.write("v.npy", npy_bytes(dict("<f8", "(2,)"), bytes_of(values), major));
    const NpyInfo info = read_npy_info(path);
    EXPECT_EQ(info.data_offset % 64, 0) << major;
    std::vector<double> out(2);
    NpyReader(path).read(0, 2, out.data());
    EXPECT_EQ(out, values) << major;
  }
}

TEST(NpyHeaderTest, RejectsMalformedShapes) {
  const TempDir dir;
  const std::string one_element = std::string(8, '\0');
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "(5)"), one_element)),
                       "a one-element shape needs a trailing comma, as in (5,)"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "(-1,)"), one_element)),
                       "expected a non-negative integer in the shape"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "(2.5,)"), one_element)),
                       "expected ',' or ')' in the shape"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "[1]"), one_element)),
                       "expected a string, True, False or a tuple of integers"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "(99999999999999999999,)"), one_element)),
                       "shape dimension too large"));
}

TEST(NpyHeaderTest, RejectsMalformedDictionaries) {
  const TempDir dir;
  const std::string data(8, '\0');
  const std::string path = dir.file("bad.npy");
  EXPECT_EQ(header_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, }", data)),
            path + ": malformed .npy header: missing key 'shape'");
  EXPECT_TRUE(contains(header_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), "
                                                   "'extra': 'x', }",
                                                   data)),
                       "unexpected key 'extra' (expected exactly 'descr', 'fortran_order' and 'shape')"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, "
                                                   "'shape': (1,), }",
                                                   data)),
                       "key 'descr' appears twice"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes("{'descr': '<f8', 'fortran_order': 'no', 'shape': (1,), }", data)),
                       "'fortran_order' must be True or False"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<f8", "(1,)") + " junk", data)),
                       "unexpected text after the dictionary"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes("{'descr: '<f8'", data)), "malformed .npy header"));
  EXPECT_TRUE(contains(header_error(dir, npy_bytes("['descr', '<f8']", data)), "expected '{'"));
}

TEST(NpyHeaderTest, RejectsUnsupportedDtypes) {
  const TempDir dir;
  const std::string data(8, '\0');
  const std::string path = dir.file("bad.npy");
  EXPECT_EQ(header_error(dir, npy_bytes(dict("<c8", "(1,)"), data)),
            path + ": unsupported dtype '<c8' (expected float16, float32 or float64)");
  // Integers and bools are valid numpy, but nothing the engine reads holds them.
  for (const char* descr : {"<i8", "<i4", "|u1", "|b1", "<f16"}) {
    EXPECT_EQ(header_error(dir, npy_bytes(dict(descr, "(1,)"), data)),
              path + ": unsupported dtype '" + descr + "' (expected float16, float32 or float64)");
  }
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("<U2", "(1,)"), data)), "unsupported dtype '<U2'"));
  // '|' means "byte order not applicable", which is wrong for a multi-byte type.
  EXPECT_TRUE(contains(header_error(dir, npy_bytes(dict("|f8", "(1,)"), data)), "unsupported dtype '|f8'"));
  EXPECT_TRUE(contains(
      header_error(dir, npy_bytes("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                                  data)),
      "structured (record) arrays are not supported"));
}

TEST(NpyHeaderTest, RejectsBadMagicAndVersions) {
  const TempDir dir;
  const std::string path = dir.file("bad.npy");
  const std::string not_npy = path + ": not a .npy file (the file does not start with the magic bytes \\x93NUMPY)";
  EXPECT_EQ(header_error(dir, std::string("PK\x03\x04 a zip file, maybe an .npz")), not_npy);
  EXPECT_EQ(header_error(dir, ""), not_npy);
  EXPECT_EQ(header_error(dir, "\x93NUM"), not_npy);

  std::string v4 = npy_bytes(dict("<f8", "(1,)"), std::string(8, '\0'));
  v4[6] = 4;
  EXPECT_EQ(header_error(dir, v4), path + ": unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)");
  std::string v11 = npy_bytes(dict("<f8", "(1,)"), std::string(8, '\0'));
  v11[7] = 1;
  EXPECT_TRUE(contains(header_error(dir, v11), "unsupported .npy format version 1.1"));
}

TEST(NpyHeaderTest, RejectsTruncatedAndOverlongFiles) {
  const TempDir dir;
  const std::string path = dir.file("bad.npy");
  const std::string full = npy_bytes(dict("<f4", "(2, 3)"), std::string(24, '\0'));

  EXPECT_EQ(header_error(dir, full.substr(0, full.size() - 4)),
            path + ": file is truncated: expected 24 bytes of data (shape [2, 3], float32), found 20");
  EXPECT_EQ(header_error(dir, full + "xx"),
            path + ": file is longer than its header says: expected 24 bytes of data (shape [2, 3], float32), "
                   "found 26");
  EXPECT_EQ(header_error(dir, full.substr(0, 40)), path + ": file is truncated: the header needs 118 bytes, found 30");
  EXPECT_EQ(header_error(dir, full.substr(0, 9)),
            path + ": file is truncated: the .npy preamble needs 10 bytes, found 9");
}

TEST(NpyHeaderTest, MissingFileAndDirectory) {
  const TempDir dir;
  const std::string missing = dir.file("mean_s_t_ssh.npy");
  EXPECT_EQ(error_message<InputError>([&] { read_npy_info(missing); }), missing + ": no such file");
  const std::string folder = dir.file("");
  EXPECT_TRUE(contains(error_message<InputError>([&] { read_npy_info(folder); }), "is a directory"));
}

// ---- NpyReader ----------------------------------------------------------------------------------

TEST(NpyReaderTest, ConvertsBigEndianFloat64) {
  const TempDir dir;
  const std::vector<double> values{0.1, -1e300, 3.0, 1.0 / 3.0};
  const std::string path = dir.write("be.npy", npy_bytes(dict(">f8", "(4,)"), bytes_of(values, /*big_endian=*/true)));
  const NpyReader reader(path);
  EXPECT_EQ(reader.info().dtype, DType::kFloat64);
  EXPECT_TRUE(reader.info().byteswap);

  std::vector<double> as_double(4);
  reader.read(0, 4, as_double.data());
  EXPECT_EQ(as_double, values);

  std::vector<float> as_float(2);
  reader.read(2, 2, as_float.data());
  EXPECT_EQ(as_float[0], 3.0f);
  EXPECT_EQ(as_float[1], static_cast<float>(1.0 / 3.0));
}

TEST(NpyReaderTest, ConvertsBigEndianFloat32AndNativeOrderMarker) {
  const TempDir dir;
  const std::vector<float> values{1.25f, -8.5f, 1e-20f};
  const std::string be = dir.write("be.npy", npy_bytes(dict(">f4", "(3,)"), bytes_of(values, true)));
  const std::string native = dir.write("native.npy", npy_bytes(dict("=f4", "(3,)"), bytes_of(values)));
  for (const auto& path : {be, native}) {
    std::vector<float> f(3);
    NpyReader(path).read(0, 3, f.data());
    EXPECT_EQ(f, values) << path;
    std::vector<double> d(3);
    NpyReader(path).read(0, 3, d.data());
    EXPECT_EQ(d[2], static_cast<double>(1e-20f)) << path;
  }
}

TEST(NpyReaderTest, ConvertsFloat16ExactlyInEitherByteOrder) {
  // IEEE binary16 bit patterns and their values: 1, −2, 1/3 rounded to float16, the smallest
  // subnormal 2^−24, the largest finite 65504, +inf and a NaN.
  const std::vector<uint16_t> bits{0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x7C00, 0x7E00};
  const std::vector<double> values{1.0, -2.0, 0.333251953125, std::ldexp(1.0, -24), 65504.0,
                                   std::numeric_limits<double>::infinity()};
  const TempDir dir;
  const std::string le = dir.write("le.npy", npy_bytes(dict("<f2", "(7,)"), bytes_of(bits)));
  const std::string be = dir.write("be.npy", npy_bytes(dict(">f2", "(7,)"), bytes_of(bits, /*big_endian=*/true)));
  for (const auto& path : {le, be}) {
    const NpyReader reader(path);
    EXPECT_EQ(reader.info().dtype, DType::kFloat16) << path;
    EXPECT_EQ(reader.info().itemsize, 2) << path;
    std::vector<double> d(7);
    reader.read(0, 7, d.data());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(d[i], values[i]) << path << " element " << i;
    EXPECT_TRUE(std::isnan(d[6])) << path;
    std::vector<float> f(2);
    reader.read(2, 2, f.data());
    EXPECT_EQ(f[0], 0.333251953125F) << path;
    EXPECT_EQ(f[1], std::ldexp(1.0F, -24)) << path;
  }
}

TEST(NpyReaderTest, ReadsSlicesOfALargeArray) {
  const TempDir dir;
  // [1000, 1000] float32, 4 MB: large enough that conversions run in several staging chunks.
  std::vector<float> values(1000 * 1000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
  const std::string path = dir.write("big.npy", npy_bytes(dict("<f4", "(1000, 1000)"), bytes_of(values)));
  const NpyReader reader(path);

  // Row 123, columns 456..999: a positioned read of part of the file.
  std::vector<float> row(544);
  reader.read(123 * 1000 + 456, 544, row.data());
  for (std::size_t i = 0; i < row.size(); ++i) ASSERT_EQ(row[i], values[123456 + i]) << i;

  // Converted to float64 across several staging chunks (of 65536 elements).
  std::vector<double> wide(200000);
  reader.read(700000, 200000, wide.data());
  for (std::size_t i = 0; i < wide.size(); ++i) ASSERT_EQ(wide[i], static_cast<double>(values[700000 + i])) << i;

  float last = 0;
  reader.read(999999, 1, &last);
  EXPECT_EQ(last, values.back());
  reader.read(1000000, 0, &last);  // an empty read at the end is fine
}

TEST(NpyReaderTest, OutOfRangeReadsNameTheArray) {
  const TempDir dir;
  const std::string path = dir.write("a.npy", npy_bytes(dict("<f4", "(2, 3)"), std::string(24, '\0')));
  const NpyReader reader(path);
  float out[8] = {};
  EXPECT_EQ(error_message<InputError>([&] { reader.read(4, 3, out); }),
            path + ": read of 3 elements from element 4 is out of range (the array has 6 elements, shape [2, 3])");
  EXPECT_THROW(reader.read(-1, 1, out), InputError);
  EXPECT_THROW(reader.read(0, -1, out), InputError);
  EXPECT_THROW(reader.read(7, 0, out), InputError);
  EXPECT_THROW(reader.read(1, INT64_MAX, out), InputError);
}

TEST(NpyReaderTest, RejectsFortranOrderUnlessItIsTheSameBytes) {
  const TempDir dir;
  const std::string path = dir.write("f.npy", npy_bytes(dict("<f4", "(2, 3)", true), std::string(24, '\0')));
  EXPECT_TRUE(read_npy_info(path).fortran_order);
  EXPECT_EQ(error_message<InputError>([&] { NpyReader reader(path); }),
            path + ": Fortran-order array of shape [2, 3] is not supported (expected C order; re-save it with "
                   "numpy.ascontiguousarray)");
  // With at most one dimension above 1 both orders are the same bytes.
  const std::vector<float> values{1, 2, 3};
  for (const std::string shape : {"(3,)", "(1, 3)", "(3, 1, 1)"}) {
    const std::string ok = dir.write("ok.npy", npy_bytes(dict("<f4", shape, true), bytes_of(values)));
    std::vector<float> out(3);
    NpyReader(ok).read(0, 3, out.data());
    EXPECT_EQ(out, values) << shape;
  }
}

TEST(NpyReaderTest, ConcurrentReadsFromTwoThreads) {
  const TempDir dir;
  std::vector<double> values(50000);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) / 7.0;
  const std::string path = dir.write("t.npy", npy_bytes(dict("<f8", "(50000,)"), bytes_of(values)));
  const NpyReader reader(path);
  auto worker = [&](int64_t first, int* failures) {
    std::vector<float> out(1000);
    for (int round = 0; round < 100; ++round) {
      const int64_t offset = first + round * 100;
      reader.read(offset, 1000, out.data());
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] != static_cast<float>(values[static_cast<std::size_t>(offset) + i])) ++*failures;
      }
    }
  };
  int failures0 = 0;
  int failures1 = 0;
  std::thread a(worker, 0, &failures0);
  std::thread b(worker, 30000, &failures1);
  a.join();
  b.join();
  EXPECT_EQ(failures0, 0);
  EXPECT_EQ(failures1, 0);
}

TEST(NpyReaderTest, MoveTransfersTheFile) {
  const TempDir dir;
  const std::vector<float> values{4, 5};
  const std::string path = dir.write("m.npy", npy_bytes(dict("<f4", "(2,)"), bytes_of(values)));
  NpyReader first(path);
  NpyReader second(std::move(first));
  std::vector<float> out(2);
  second.read(0, 2, out.data());
  EXPECT_EQ(out, values);
  EXPECT_THROW(first.read(0, 1, out.data()), InputError);  // NOLINT(bugprone-use-after-move): on purpose
  first = std::move(second);
  first.read(1, 1, out.data());
  EXPECT_EQ(out[0], 5.0f);
}

}  // namespace
}  // namespace neuralom
