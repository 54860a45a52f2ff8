// How the initial conditions of a run are split into batches, and the batches among processes.
//
// The unit of work is a batch: slots [b·B, min(N, (b+1)·B)) of the run's IC list (N ICs, batch B),
// the same batches whoever runs them, so that a batch gives the same fields and per-IC scores on
// any rank, in any shard and after any resume.
//
// The batches are split among processes (MPI ranks, shards) in contiguous blocks, the first
// (count mod parts) blocks one batch longer. Contiguous rather than round-robin because IC i reads
// days i .. i+P−1: neighbouring ICs share all but one day, so a block of k consecutive ICs reads
// k+P−1 days where k scattered ICs read up to k·P, and each process's fields are one slab of the IC
// axis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuralom {

/// A half-open range [begin, end) of slots (positions in the run's IC list) or of batch indices.
struct SlotRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
  bool operator==(const SlotRange& other) const { return begin == other.begin && end == other.end; }
};

/// The batches of `ic_count` ICs at batch size `batch`: [0, B), [B, 2B), …, the last one shorter.
/// Throws std::invalid_argument unless ic_count >= 0 and batch >= 1.
std::vector<SlotRange> batch_ranges(int64_t ic_count, int64_t batch);

/// Part `k` of `items` items split into `parts` contiguous blocks, the first (items mod parts) of
/// them one longer; empty when parts > items. Throws std::invalid_argument unless 0 <= k < parts.
SlotRange block_of(int64_t items, int64_t parts, int64_t k);

/// The elements of `items` in block `k` of `parts` (block_of over their positions).
std::vector<int64_t> block_items(const std::vector<int64_t>& items, int64_t parts, int64_t k);

/// One of the independent parts of a run (`--shard K/N`): shard `index` of `count`, 0-based.
struct ShardSpec {
  int64_t index = 0;
  int64_t count = 1;
  bool sharded() const { return count > 1; }
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// Parses "K/N" (0 <= K < N). Throws ConfigError naming `origin` otherwise.
ShardSpec parse_shard_spec(const std::string& text, const std::string& origin);

}  // namespace neuralom
