#include "neuralom/io/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <c10/util/Half.h>

#include "io/detail/file_descriptor.h"
#include "io/detail/join_shape.h"
#include "io/detail/npy_header_dict.h"
#include "neuralom/core/errors.h"

// NpyInfo::byteswap is defined for a little-endian host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "neuralom's .npy code assumes a little-endian host");

namespace neuralom {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// Elements converted per pread() when the file's type differs from the caller's.
constexpr int64_t kConvertChunk = 1 << 16;

// ---- low-level file access ----------------------------------------------------------------------

int open_for_reading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw InputError(path + ": no such file");
    throw InputError(path + ": cannot open for reading: " + std::strerror(errno));
  }
  return fd;
}

/// Reads exactly `size` bytes at `offset`; returns the number read (less only at end of file).
std::size_t pread_full(int fd, void* buf, std::size_t size, int64_t offset, const std::string& path) {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, p + done, size - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(path + ": read failed: " + std::strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// ---- the header ---------------------------------------------------------------------------------

/// Maps a descr such as "<f4" to the element type; sets itemsize and byteswap. False if unsupported.
bool parse_descr(const std::string& descr, NpyInfo& info) {
  // '|' (byte order not applicable) is wrong for a multi-byte type; '=' is the host's order.
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '>' && descr[0] != '=')) return false;
  const std::string code = descr.substr(1);
  if (code == "f2") {
    info.dtype = DType::kFloat16;
    info.itemsize = 2;
  } else if (code == "f4") {
    info.dtype = DType::kFloat32;
    info.itemsize = 4;
  } else if (code == "f8") {
    info.dtype = DType::kFloat64;
    info.itemsize = 8;
  } else {
    return false;
  }
  info.byteswap = descr[0] == '>';
  return true;
}

/// Reads and validates the header from an open descriptor.
NpyInfo parse_header(int fd, const std::string& path) {
  NpyInfo info;
  info.path = path;

  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError(path + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory, expected a .npy file");
  const int64_t file_size = static_cast<int64_t>(st.st_size);

  unsigned char preamble[12] = {};
  const std::size_t got = pread_full(fd, preamble, sizeof(preamble), 0, path);
  if (got < kMagicSize || std::memcmp(preamble, kMagic, kMagicSize) != 0) {
    throw InputError(path + ": not a .npy file (the file does not start with the magic bytes \\x93NUMPY)");
  }
  const int major = preamble[6];
  const int minor = preamble[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw InputError(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
  }
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 in 4 (little-endian).
  const int length_bytes = major == 1 ? 2 : 4;
  const int64_t prefix = 8 + length_bytes;
  if (static_cast<int64_t>(got) < prefix) {
    throw InputError(path + ": file is truncated: the .npy preamble needs " + std::to_string(prefix) +
                     " bytes, found " + std::to_string(got));
  }
  int64_t header_len = preamble[8] | (preamble[9] << 8);
  if (length_bytes == 4) {
    header_len |= (static_cast<int64_t>(preamble[10]) << 16) | (static_cast<int64_t>(preamble[11]) << 24);
  }
  if (prefix + header_len > file_size) {
    throw InputError(path + ": file is truncated: the header needs " + std::to_string(header_len) +
                     " bytes, found " + std::to_string(file_size - prefix));
  }
  std::string header(static_cast<std::size_t>(header_len), '\0');
  pread_full(fd, header.data(), header.size(), prefix, path);
  info.data_offset = prefix + header_len;

  // Versions 1.0/2.0 are latin-1 and 3.0 UTF-8; the keys and values we accept are all ASCII, so
  // any other byte is simply a parse error.
  const auto items = detail::parse_npy_header_dict(path, header);
  bool have_descr = false, have_order = false, have_shape = false;
  for (const auto& [key, value] : items) {
    bool* seen = nullptr;
    detail::NpyHeaderValue::Kind want{};
    if (key == "descr") {
      seen = &have_descr;
      want = detail::NpyHeaderValue::Kind::kString;
    } else if (key == "fortran_order") {
      seen = &have_order;
      want = detail::NpyHeaderValue::Kind::kBool;
    } else if (key == "shape") {
      seen = &have_shape;
      want = detail::NpyHeaderValue::Kind::kTuple;
    } else {
      throw InputError(path + ": malformed .npy header: unexpected key '" + key +
                       "' (expected exactly 'descr', 'fortran_order' and 'shape')");
    }
    if (*seen) throw InputError(path + ": malformed .npy header: key '" + key + "' appears twice");
    *seen = true;
    if (value.kind != want) {
      static const char* const kWanted[] = {"a string", "True or False", "a tuple of integers"};
      throw InputError(path + ": malformed .npy header: '" + key + "' must be " +
                       kWanted[static_cast<int>(want)]);
    }
    if (key == "descr") info.descr = value.text;
    if (key == "fortran_order") info.fortran_order = value.flag;
    if (key == "shape") info.shape = value.tuple;
  }
  for (const auto& [present, name] : {std::pair{have_descr, "descr"}, std::pair{have_order, "fortran_order"},
                                      std::pair{have_shape, "shape"}}) {
    if (!present) throw InputError(path + ": malformed .npy header: missing key '" + name + "'");
  }
  if (!parse_descr(info.descr, info)) {
    throw InputError(path + ": unsupported dtype '" + info.descr + "' (expected float16, float32 or float64)");
  }

  int64_t numel = 1;
  for (const int64_t d : info.shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / info.itemsize / d) {
      throw InputError(path + ": shape " + detail::join_shape(info.shape) + " is too large");
    }
    numel *= d;
  }
  const int64_t expected = numel * info.itemsize;
  const int64_t found = file_size - info.data_offset;
  if (found < expected) {
    throw InputError(path + ": file is truncated: expected " + std::to_string(expected) + " bytes of data (shape " +
                     detail::join_shape(info.shape) + ", " + dtype_name(info.dtype) + "), found " +
                     std::to_string(found));
  }
  if (found > expected) {
    throw InputError(path + ": file is longer than its header says: expected " + std::to_string(expected) +
                     " bytes of data (shape " + detail::join_shape(info.shape) + ", " + dtype_name(info.dtype) +
                     "), found " + std::to_string(found));
  }
  return info;
}

template <typename T>
void byteswap_in_place(void* data, int64_t count) {
  auto* bytes = static_cast<unsigned char*>(data);
  for (int64_t i = 0; i < count; ++i) {
    std::reverse(bytes + i * static_cast<int64_t>(sizeof(T)), bytes + (i + 1) * static_cast<int64_t>(sizeof(T)));
  }
}

void byteswap_buffer(void* data, int64_t count, int itemsize) {
  switch (itemsize) {
    case 2: byteswap_in_place<uint16_t>(data, count); break;
    case 4: byteswap_in_place<uint32_t>(data, count); break;
    case 8: byteswap_in_place<uint64_t>(data, count); break;
    default: break;
  }
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------------

int64_t NpyInfo::numel() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

std::string NpyInfo::shape_string() const { return detail::join_shape(shape); }

NpyInfo read_npy_info(const std::string& path) {
  const int fd = open_for_reading(path);
  detail::FileDescriptor guard(fd);
  return parse_header(fd, path);
}

// ---- NpyReader ----------------------------------------------------------------------------------

NpyReader::NpyReader(const std::string& path) {
  const int fd = open_for_reading(path);
  detail::FileDescriptor guard(fd);
  info_ = parse_header(fd, path);
  if (info_.fortran_order) {
    const auto big = std::count_if(info_.shape.begin(), info_.shape.end(), [](int64_t d) { return d > 1; });
    // With at most one dimension above 1, Fortran and C order are the same bytes.
    if (big > 1) {
      throw InputError(path + ": Fortran-order array of shape " + info_.shape_string() +
                       " is not supported (expected C order; re-save it with numpy.ascontiguousarray)");
    }
  }
  fd_ = guard.release();
}

NpyReader::~NpyReader() {
  if (fd_ >= 0) ::close(fd_);
}

NpyReader::NpyReader(NpyReader&& other) noexcept
    : info_(std::move(other.info_)), fd_(std::exchange(other.fd_, -1)) {}

NpyReader& NpyReader::operator=(NpyReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    info_ = std::move(other.info_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void NpyReader::read(int64_t offset, int64_t count, float* out) const { read_as(offset, count, out); }
void NpyReader::read(int64_t offset, int64_t count, double* out) const { read_as(offset, count, out); }

template <typename T>
void NpyReader::read_as(int64_t offset, int64_t count, T* out) const {
  const std::string& path = info_.path;
  if (fd_ < 0) throw InputError(path + ": read from a closed NpyReader");
  const int64_t numel = info_.numel();
  if (offset < 0 || count < 0 || offset > numel || count > numel - offset) {
    // Offset and count, not [offset, offset + count): the sum may overflow for a bad request.
    throw InputError(path + ": read of " + std::to_string(count) + " elements from element " + std::to_string(offset) +
                     " is out of range (the array has " + std::to_string(numel) + " elements, shape " +
                     info_.shape_string() + ")");
  }
  const int itemsize = info_.itemsize;
  auto read_bytes = [&](void* dst, int64_t first, int64_t n) {
    const auto bytes = static_cast<std::size_t>(n * itemsize);
    if (pread_full(fd_, dst, bytes, info_.data_offset + first * itemsize, path) != bytes) {
      throw InputError(path + ": unexpected end of file reading elements [" + std::to_string(first) + ", " +
                       std::to_string(first + n) + ") (was the file truncated while in use?)");
    }
  };
  const bool same_type = static_cast<int>(sizeof(T)) == itemsize;
  if (same_type) {
    // The common case: straight into the caller's buffer, no staging copy.
    read_bytes(out, offset, count);
    if (info_.byteswap) byteswap_buffer(out, count, itemsize);
    return;
  }
  std::vector<unsigned char> staging(static_cast<std::size_t>(std::min(count, kConvertChunk) * itemsize));
  for (int64_t done = 0; done < count; done += kConvertChunk) {
    const int64_t n = std::min(kConvertChunk, count - done);
    read_bytes(staging.data(), offset + done, n);
    if (info_.byteswap) byteswap_buffer(staging.data(), n, itemsize);
    if (info_.dtype == DType::kFloat16) {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, staging.data() + i * 2, 2);
        out[done + i] = static_cast<T>(c10::detail::fp16_ieee_to_fp32_value(bits));  // exact
      }
    } else if (info_.dtype == DType::kFloat32) {
      for (int64_t i = 0; i < n; ++i) {
        float v;
        std::memcpy(&v, staging.data() + i * 4, 4);
        out[done + i] = static_cast<T>(v);
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, staging.data() + i * 8, 8);
        out[done + i] = static_cast<T>(v);
      }
    }
  }
}

}  // namespace neuralom
