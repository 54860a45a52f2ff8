// Batch records survive their CBOR encoding exactly: the doubles of the per-IC sums (NaN included),
// the counts, the part, the timings.
#include "neuralom/engine/batch_record.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

BatchRecord sample() {
  BatchRecord r;
  r.batch = 3;
  r.slots = {6, 8};
  r.part = "parts/batch-000003.h5";
  r.rank = 1;
  r.stats.total_seconds = 1.25;
  r.stats.day_steps = 3;
  r.stats.ic_days = 6;
  for (int64_t slot = 6; slot < 8; ++slot) {
    IcScores ic;
    ic.slot = slot;
    ic.ic = 10 + slot;
    IcMetrics m;
    m.channels = 2;
    m.mse = {0.0, 0.0, 0.1 + static_cast<double>(slot), 1.0 / 3.0};
    m.acc = {0.0, 0.0, std::numeric_limits<double>::quiet_NaN(), -0.7071067811865476};
    m.fields = {0, 1};
    ic.metrics = {m, m};
    IcContingency c;
    c.variables = 1;
    c.quantiles = 1;
    c.counts = {0, 0, 0, 0, 5, 1, 2, 300};
    c.fields = {0, 1};
    ic.extremes = {c, c};
    r.ics.push_back(ic);
  }
  return r;
}

TEST(BatchRecordTest, RoundTripsExactly) {
  const BatchRecord a = sample();
  const BatchRecord b = decode_batch_record(encode_batch_record(a), "test");
  EXPECT_EQ(b.batch, 3);
  EXPECT_EQ(b.slots, (SlotRange{6, 8}));
  EXPECT_EQ(b.part, a.part);
  EXPECT_EQ(b.rank, 1);
  EXPECT_EQ(b.stats.ic_days, 6);
  EXPECT_EQ(b.stats.total_seconds, 1.25);
  ASSERT_EQ(b.ics.size(), 2U);
  EXPECT_EQ(b.ics[1].ic, 17);
  EXPECT_EQ(b.ics[1].metrics[0].mse, a.ics[1].metrics[0].mse);  // bit for bit
  EXPECT_EQ(b.ics[1].metrics[1].acc[3], -0.7071067811865476);
  EXPECT_TRUE(std::isnan(b.ics[0].metrics[0].acc[2]));
  EXPECT_EQ(b.ics[0].extremes[1].counts, a.ics[0].extremes[1].counts);
  EXPECT_EQ(b.ics[0].metrics[0].fields, (std::vector<int64_t>{0, 1}));
}

TEST(BatchRecordTest, SeveralRecordsAndTheirTotals) {
  BatchRecord second = sample();
  second.batch = 4;
  const auto records = decode_batch_records(encode_batch_records({sample(), second}), "test");
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].batch, 4);
  EXPECT_EQ(total_stats(records).ic_days, 12);
  EXPECT_EQ(total_stats(records).total_seconds, 2.5);
  EXPECT_TRUE(decode_batch_records(encode_batch_records({}), "test").empty());
}

TEST(BatchRecordTest, GarbageIsAnInputErrorNamingTheOrigin) {
  try {
    decode_batch_record("not cbor at all", "journal/batch-000001.cbor");
    FAIL() << "garbage accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("journal/batch-000001.cbor"), std::string::npos);
  }
  const std::string bytes = encode_batch_record(sample());
  EXPECT_THROW(decode_batch_record(bytes.substr(0, bytes.size() / 2), "half"), InputError);
}

}  // namespace
}  // namespace neuralom
