#include "neuralom/engine/ic_partition.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "neuralom/core/errors.h"
#include "neuralom/core/number_text.h"

namespace neuralom {

std::vector<SlotRange> batch_ranges(int64_t ic_count, int64_t batch) {
  if (ic_count < 0 || batch < 1) {
    throw std::invalid_argument("batch_ranges: " + std::to_string(ic_count) + " ICs in batches of " +
                                std::to_string(batch));
  }
  std::vector<SlotRange> out;
  for (int64_t begin = 0; begin < ic_count; begin += batch) out.push_back({begin, std::min(ic_count, begin + batch)});
  return out;
}

SlotRange block_of(int64_t items, int64_t parts, int64_t k) {
  if (parts < 1 || k < 0 || k >= parts || items < 0) {
    throw std::invalid_argument("block_of: part " + std::to_string(k) + " of " + std::to_string(parts));
  }
  const int64_t base = items / parts;
  const int64_t extra = items % parts;
  const int64_t begin = k * base + std::min(k, extra);
  return {begin, begin + base + (k < extra ? 1 : 0)};
}

std::vector<int64_t> block_items(const std::vector<int64_t>& items, int64_t parts, int64_t k) {
  const SlotRange r = block_of(static_cast<int64_t>(items.size()), parts, k);
  return {items.begin() + r.begin, items.begin() + r.end};
}

ShardSpec parse_shard_spec(const std::string& text, const std::string& origin) {
  const auto slash = text.find('/');
  const std::optional<int64_t> k = slash == std::string::npos ? std::nullopt : parse_integer(text.substr(0, slash));
  const std::optional<int64_t> n = slash == std::string::npos ? std::nullopt : parse_integer(text.substr(slash + 1));
  if (!k || !n || *n < 1 || *k < 0 || *k >= *n) {
    throw ConfigError(origin + ": '" + text + "' is not a shard K/N with 0 <= K < N (e.g. 0/4 .. 3/4; in a Slurm "
                      "job array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)");
  }
  return ShardSpec{*k, *n};
}

}  // namespace neuralom
