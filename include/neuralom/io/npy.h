// NumPy .npy files: strict header parsing and random-access reads of float16/32/64 arrays.
//
// Used for the normalisation statistics (`mean_s_t_ssh.npy`, `[1, 97, 1, 1]` float64) and the
// day-of-year climatology (`climate_mean_s_t_ssh.npy`, `[T, 97, H+1, W]`, up to ~37 GB), which is
// never loaded whole: NpyReader reads the elements it is asked for with positioned reads.
//
// Why no library: of the C++ .npy readers only xtensor's (libxtensor-dev) is packaged for Debian
// (cnpy is not), and both load whole arrays into memory; LibTorch reads no .npy at all. The
// climatology must be read a slice at a time, and every malformed or unexpected file (wrong dtype,
// byte order, Fortran order, truncated) rejected with a message that names it. The format is small
// (a magic string, a Python dict literal, raw bytes), so this reader covers exactly what the
// engine reads — float16/32/64, either byte order, C order (or Fortran order along one axis) — and
// writes nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/io/dtype.h"

namespace neuralom {

/// The parsed header of a .npy file.
struct NpyInfo {
  std::string path;
  std::string descr;           ///< the header's 'descr', e.g. "<f4"
  DType dtype = DType::kOther; ///< kFloat16, kFloat32 or kFloat64 (others are rejected)
  int itemsize = 0;            ///< bytes per element
  bool byteswap = false;       ///< stored big-endian on this little-endian host
  bool fortran_order = false;
  std::vector<int64_t> shape;
  int64_t data_offset = 0;     ///< byte offset of the first element

  int64_t numel() const;
  std::string shape_string() const;  ///< "[1, 97, 1, 1]"
};

/// Parses and validates the header: magic, version 1.0/2.0/3.0, a well-formed dict with exactly
/// 'descr', 'fortran_order' and 'shape', a float16, float32 or float64 dtype, and a file size
/// matching the shape. Throws InputError naming the file and what is wrong.
NpyInfo read_npy_info(const std::string& path);

/// Positioned reads from a C-order .npy file. Thread-safe (pread on one descriptor).
class NpyReader {
 public:
  /// Opens and validates the file. Throws InputError; a Fortran-order array is rejected unless at
  /// most one of its dimensions exceeds 1 (then both orders are the same bytes).
  explicit NpyReader(const std::string& path);
  ~NpyReader();
  NpyReader(const NpyReader&) = delete;
  NpyReader& operator=(const NpyReader&) = delete;
  NpyReader(NpyReader&& other) noexcept;
  NpyReader& operator=(NpyReader&& other) noexcept;

  const NpyInfo& info() const { return info_; }

  /// Reads `count` consecutive elements starting at flat (C-order) element `offset`, converting
  /// float16/float32/float64 (either byte order) to the output type (exactly, when widening).
  /// Throws InputError for out-of-range requests or short reads.
  void read(int64_t offset, int64_t count, float* out) const;
  void read(int64_t offset, int64_t count, double* out) const;

 private:
  template <typename T>
  void read_as(int64_t offset, int64_t count, T* out) const;

  NpyInfo info_;
  int fd_ = -1;
};

}  // namespace neuralom
