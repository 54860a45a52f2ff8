// Fuzz target: the .npy reader (io/npy) on arbitrary bytes — magic, version, header length, the
// header dictionary (io/detail/npy_header_dict), dtype, shape and the payload's size — and the
// statistics loader on top of it (data/stats). Whatever the bytes, the reader either refuses them
// with an InputError or reads exactly the elements the header declares; reads outside the array
// are refused.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "neuralom/data/stats.h"
#include "neuralom/io/npy.h"

using namespace neuralom;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("input.npy", data, size);
  try {
    const NpyInfo info = read_npy_info(path);
    (void)info.shape_string();
    NpyReader reader(path);
    const int64_t n = reader.info().numel();
    const int64_t m = std::min<int64_t>(n, 4096);
    std::vector<float> f(static_cast<std::size_t>(std::max<int64_t>(m, 1)));
    std::vector<double> d(f.size());
    reader.read(0, m, f.data());
    reader.read(0, m, d.data());
    if (n > 0) reader.read(n - 1, 1, d.data());
    fuzz::expect_refused([&] { reader.read(n, 1, f.data()); }, "a read past the end");
    fuzz::expect_refused([&] { reader.read(-1, 1, f.data()); }, "a read before the start");
    fuzz::expect_refused([&] { reader.read(0, n + 1, d.data()); }, "a read longer than the array");
    if (n > 0 && n <= 4096) (void)load_norm_stats(path, path, first_channels(n));
  } catch (const Error&) {
    // Refused with a message: the expected outcome for malformed input.
  }
  return 0;
}
