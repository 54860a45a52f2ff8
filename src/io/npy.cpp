#include "neuralom/io/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"
#include "neuralom/io/output_file.h"

// NpyInfo::byteswap and save_npy's '<' descriptors are defined for a little-endian host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "neuralom's .npy code assumes a little-endian host");

namespace neuralom {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// Elements converted per pread() when the file's type differs from the caller's.
constexpr int64_t kConvertChunk = 1 << 16;

// ---- low-level file access ----------------------------------------------------------------------

/// Closes a descriptor on scope exit (the parsing functions throw).
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

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

// ---- header dictionary: a strict parser for the Python literal numpy writes ---------------------

struct HeaderValue {
  enum class Kind { kString, kBool, kTuple } kind = Kind::kString;
  std::string text;
  bool flag = false;
  std::vector<int64_t> tuple;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& header) : path_(path), s_(header) {}

  /// Parses "{'key': value, ...}" followed by nothing but whitespace.
  std::vector<std::pair<std::string, HeaderValue>> parse_dict() {
    std::vector<std::pair<std::string, HeaderValue>> items;
    skip_space();
    expect('{');
    skip_space();
    while (peek() != '}') {
      std::string key = parse_string("a quoted key");
      skip_space();
      expect(':');
      skip_space();
      HeaderValue value = parse_value(key);
      items.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (peek() == ',') {  // Python allows a trailing comma, and numpy writes one
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the dictionary");
    return items;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::string shown = s_;
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.pop_back();
    throw InputError(path_ + ": malformed .npy header: " + what + " at character " + std::to_string(pos_) +
                     " of \"" + shown + "\"");
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string parse_string(const char* what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(std::string("expected ") + what);
    ++pos_;
    const std::size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string text = s_.substr(pos_, end - pos_);
    // Escapes never occur in the keys and dtype strings numpy writes; refuse rather than misread.
    if (text.find('\\') != std::string::npos) fail("escape sequences are not supported");
    pos_ = end + 1;
    return text;
  }

  HeaderValue parse_value(const std::string& key) {
    HeaderValue v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = HeaderValue::Kind::kString;
      v.text = parse_string("a string");
    } else if (s_.compare(pos_, 4, "True") == 0) {
      v.kind = HeaderValue::Kind::kBool;
      v.flag = true;
      pos_ += 4;
    } else if (s_.compare(pos_, 5, "False") == 0) {
      v.kind = HeaderValue::Kind::kBool;
      v.flag = false;
      pos_ += 5;
    } else if (c == '(') {
      v.kind = HeaderValue::Kind::kTuple;
      v.tuple = parse_tuple();
    } else if (c == '[' && key == "descr") {
      // A list descr is a structured (record) dtype.
      throw InputError(path_ + ": unsupported dtype: structured (record) arrays are not supported "
                               "(expected a plain numeric array)");
    } else {
      fail("expected a string, True, False or a tuple of integers");
    }
    return v;
  }

  std::vector<int64_t> parse_tuple() {
    std::vector<int64_t> values;
    expect('(');
    skip_space();
    bool needs_comma = false;  // "(5)" is an int in Python, not a tuple; "(5,)" is the tuple
    while (peek() != ')') {
      values.push_back(parse_int());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
        needs_comma = false;
      } else if (peek() == ')') {
        needs_comma = values.size() == 1;
      } else {
        fail("expected ',' or ')' in the shape");
      }
    }
    if (needs_comma) fail("a one-element shape needs a trailing comma, as in (5,)");
    ++pos_;
    return values;
  }

  int64_t parse_int() {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a non-negative integer in the shape");
    int64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const int digit = peek() - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("shape dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // written by numpy under Python 2 ("(3L, 4L)")
    return v;
  }

  const std::string& path_;
  const std::string& s_;
  std::size_t pos_ = 0;
};

/// Maps a descr such as "<f4" to the element type; sets itemsize and byteswap. False if unsupported.
bool parse_descr(const std::string& descr, NpyInfo& info) {
  if (descr.size() < 3) return false;
  const char order = descr[0];
  const std::string code = descr.substr(1);
  struct Known {
    const char* code;
    DType dtype;
    int itemsize;
  };
  static constexpr Known kKnown[] = {
      {"f4", DType::kFloat32, 4}, {"f8", DType::kFloat64, 8}, {"b1", DType::kBool, 1},
      {"u1", DType::kUInt8, 1},   {"i1", DType::kInt8, 1},    {"i2", DType::kInt16, 2},
      {"i4", DType::kInt32, 4},   {"i8", DType::kInt64, 8},
  };
  for (const auto& k : kKnown) {
    if (code != k.code) continue;
    if (k.itemsize == 1) {
      // Byte order is meaningless for single bytes; numpy writes '|', but accept any marker.
      if (order != '|' && order != '<' && order != '>' && order != '=') return false;
    } else if (order != '<' && order != '>' && order != '=') {
      return false;  // '|' (not applicable) is wrong for a multi-byte type
    }
    info.dtype = k.dtype;
    info.itemsize = k.itemsize;
    info.byteswap = k.itemsize > 1 && order == '>';
    return true;
  }
  return false;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
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
  const auto items = HeaderParser(path, header).parse_dict();
  bool have_descr = false, have_order = false, have_shape = false;
  for (const auto& [key, value] : items) {
    bool* seen = nullptr;
    HeaderValue::Kind want{};
    if (key == "descr") {
      seen = &have_descr;
      want = HeaderValue::Kind::kString;
    } else if (key == "fortran_order") {
      seen = &have_order;
      want = HeaderValue::Kind::kBool;
    } else if (key == "shape") {
      seen = &have_shape;
      want = HeaderValue::Kind::kTuple;
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
    throw InputError(path + ": unsupported dtype '" + info.descr +
                     "' (expected float32, float64, bool, int8, uint8, int16, int32 or int64)");
  }

  int64_t numel = 1;
  for (const int64_t d : info.shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / info.itemsize / d) {
      throw InputError(path + ": shape " + shape_to_string(info.shape) + " is too large");
    }
    numel *= d;
  }
  const int64_t expected = numel * info.itemsize;
  const int64_t found = file_size - info.data_offset;
  if (found < expected) {
    throw InputError(path + ": file is truncated: expected " + std::to_string(expected) + " bytes of data (shape " +
                     shape_to_string(info.shape) + ", " + dtype_name(info.dtype) + "), found " +
                     std::to_string(found));
  }
  if (found > expected) {
    throw InputError(path + ": file is longer than its header says: expected " + std::to_string(expected) +
                     " bytes of data (shape " + shape_to_string(info.shape) + ", " + dtype_name(info.dtype) +
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
    default: break;  // single bytes have no order
  }
}

at::ScalarType scalar_type_of(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return at::kFloat;
    case DType::kFloat64: return at::kDouble;
    case DType::kBool: return at::kBool;
    case DType::kInt8: return at::kChar;
    case DType::kUInt8: return at::kByte;
    case DType::kInt16: return at::kShort;
    case DType::kInt32: return at::kInt;
    case DType::kInt64: return at::kLong;
    case DType::kOther: break;
  }
  return at::kFloat;  // unreachable: read_npy_info rejects kOther
}

}  // namespace

// ---- public API ---------------------------------------------------------------------------------

int64_t NpyInfo::numel() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

std::string NpyInfo::shape_string() const { return shape_to_string(shape); }

NpyInfo read_npy_info(const std::string& path) {
  const int fd = open_for_reading(path);
  FdGuard guard(fd);
  return parse_header(fd, path);
}

// ---- NpyReader ----------------------------------------------------------------------------------

NpyReader::NpyReader(const std::string& path) {
  const int fd = open_for_reading(path);
  FdGuard guard(fd);
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
  if (info_.dtype != DType::kFloat32 && info_.dtype != DType::kFloat64) {
    throw InputError(path + ": unsupported dtype '" + info_.descr + "' (expected float32 or float64)");
  }
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
    if (info_.dtype == DType::kFloat32) {
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

// ---- whole-array load and save ------------------------------------------------------------------

at::Tensor load_npy(const std::string& path) {
  const int fd = open_for_reading(path);
  FdGuard guard(fd);
  const NpyInfo info = parse_header(fd, path);
  // Fortran order: the bytes are the C-order array of the reversed shape, transposed.
  std::vector<int64_t> stored_shape = info.shape;
  if (info.fortran_order) std::reverse(stored_shape.begin(), stored_shape.end());
  at::Tensor t = at::empty(stored_shape, at::TensorOptions().dtype(scalar_type_of(info.dtype)));
  const auto bytes = static_cast<std::size_t>(info.numel() * info.itemsize);
  if (pread_full(fd, t.data_ptr(), bytes, info.data_offset, path) != bytes) {
    throw InputError(path + ": unexpected end of file (was the file truncated while in use?)");
  }
  if (info.byteswap) byteswap_buffer(t.data_ptr(), info.numel(), info.itemsize);
  if (info.dtype == DType::kBool) {
    // A bool tensor holding a byte other than 0 or 1 is undefined behaviour in LibTorch.
    const auto* b = static_cast<const unsigned char*>(t.data_ptr());
    if (std::any_of(b, b + info.numel(), [](unsigned char c) { return c > 1; })) {
      throw InputError(path + ": bool array holds bytes other than 0 and 1");
    }
  }
  if (info.fortran_order && info.shape.size() > 1) {
    std::vector<int64_t> reverse_dims(info.shape.size());
    for (std::size_t i = 0; i < reverse_dims.size(); ++i) {
      reverse_dims[i] = static_cast<int64_t>(reverse_dims.size() - 1 - i);
    }
    t = t.permute(reverse_dims).contiguous();
  }
  return t;
}

void save_npy(const std::string& path, const at::Tensor& tensor) {
  const at::Tensor t = tensor.to(at::kCPU).contiguous();
  const char* descr = nullptr;
  switch (t.scalar_type()) {
    case at::kFloat: descr = "<f4"; break;
    case at::kDouble: descr = "<f8"; break;
    case at::kBool: descr = "|b1"; break;
    case at::kByte: descr = "|u1"; break;
    case at::kChar: descr = "|i1"; break;
    case at::kShort: descr = "<i2"; break;
    case at::kInt: descr = "<i4"; break;
    case at::kLong: descr = "<i8"; break;
    default:
      throw OutputError(path + ": cannot save a tensor of dtype " + std::string(c10::toString(t.scalar_type())) +
                        " (expected float32, float64, bool, uint8, int8, int16, int32 or int64)");
  }
  // Python tuple syntax: "()", "(5,)", "(2, 3)".
  std::string shape = "(";
  for (int64_t i = 0; i < t.dim(); ++i) {
    if (i > 0) shape += ", ";
    shape += std::to_string(t.size(i));
  }
  shape += t.dim() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy pads the header with spaces so that the data starts on a 64-byte boundary.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 65535) throw OutputError(path + ": shape too long for a version 1.0 .npy header");

  std::string preamble(kMagic, kMagicSize);
  preamble.push_back('\x01');
  preamble.push_back('\x00');
  preamble.push_back(static_cast<char>(header.size() & 0xff));
  preamble.push_back(static_cast<char>(header.size() >> 8));

  PendingFile pending(path);
  std::FILE* f = std::fopen(pending.temp_path().c_str(), "wb");
  if (f == nullptr) throw OutputError("cannot create " + pending.temp_path() + ": " + std::strerror(errno));
  const auto data_bytes = static_cast<std::size_t>(t.numel()) * static_cast<std::size_t>(t.element_size());
  const bool written = std::fwrite(preamble.data(), 1, preamble.size(), f) == preamble.size() &&
                       std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
                       (data_bytes == 0 || std::fwrite(t.data_ptr(), 1, data_bytes, f) == data_bytes);
  int error = written ? 0 : errno;
  // fclose flushes the stdio buffer: a full disk may only show here.
  if (std::fclose(f) != 0 && error == 0) error = errno != 0 ? errno : EIO;
  if (!written || error != 0) {
    throw OutputError("cannot write " + pending.temp_path() + ": " + std::strerror(error != 0 ? error : EIO));
  }
  pending.commit();
}

}  // namespace neuralom
