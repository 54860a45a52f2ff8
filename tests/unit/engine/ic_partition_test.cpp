// Batches and the blocks of batches each process runs.
#include "neuralom/engine/ic_partition.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

TEST(IcPartitionTest, BatchesCoverTheIcsInOrder) {
  EXPECT_EQ(batch_ranges(5, 2), (std::vector<SlotRange>{{0, 2}, {2, 4}, {4, 5}}));
  EXPECT_EQ(batch_ranges(4, 1).size(), 4U);
  EXPECT_EQ(batch_ranges(3, 8), (std::vector<SlotRange>{{0, 3}}));
  EXPECT_TRUE(batch_ranges(0, 1).empty());
  EXPECT_THROW(batch_ranges(3, 0), std::invalid_argument);
}

TEST(IcPartitionTest, BlocksAreContiguousAndBalanced) {
  // 7 items over 3 parts: 3, 2, 2 — the first (7 mod 3) parts one longer.
  EXPECT_EQ(block_of(7, 3, 0), (SlotRange{0, 3}));
  EXPECT_EQ(block_of(7, 3, 1), (SlotRange{3, 5}));
  EXPECT_EQ(block_of(7, 3, 2), (SlotRange{5, 7}));
  // More parts than items: the last parts are empty.
  EXPECT_EQ(block_of(2, 3, 2).size(), 0);
  EXPECT_EQ(block_of(2, 3, 1), (SlotRange{1, 2}));
  int64_t covered = 0;
  for (int64_t k = 0; k < 4; ++k) covered += block_of(10, 4, k).size();
  EXPECT_EQ(covered, 10);
  EXPECT_THROW(block_of(4, 2, 2), std::invalid_argument);
}

TEST(IcPartitionTest, BlockItemsPicksFromAList) {
  const std::vector<int64_t> todo{1, 4, 5, 9, 10};
  EXPECT_EQ(block_items(todo, 2, 0), (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(block_items(todo, 2, 1), (std::vector<int64_t>{9, 10}));
}

TEST(IcPartitionTest, ParsesShards) {
  const ShardSpec s = parse_shard_spec("2/4", "--shard");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 4);
  EXPECT_TRUE(s.sharded());
  EXPECT_EQ(s.str(), "2/4");
  EXPECT_FALSE(parse_shard_spec("0/1", "--shard").sharded());
  for (const char* bad : {"4/4", "-1/4", "1", "1/0", "a/b", "1/4x", ""}) {
    try {
      parse_shard_spec(bad, "--shard");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--shard"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("0 <= K < N"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace neuralom
