// What one batch of initial conditions leaves behind (engine/ic_partition.h): each IC's score sums
// for every scored system, the batch's fields part and its timings. Batch records are what the
// journal keeps (engine/journal.h), what MPI ranks send to rank 0, and what the final outputs are
// reduced from (engine/merge.h), always in IC order.
//
// Encoded as CBOR (nlohmann-json): doubles are stored exactly (NaN included), so that the metrics
// reduced from records are those of an uninterrupted run, bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/engine/ic_partition.h"
#include "neuralom/engine/rollout.h"
#include "neuralom/verify/extremes.h"
#include "neuralom/verify/metrics.h"

namespace neuralom {

/// The scores one initial condition contributes, per system: the model, then persistence and
/// climatology with --baselines.
struct IcScores {
  int64_t slot = 0;                       ///< position in the run's IC list
  int64_t ic = 0;                         ///< day index
  std::vector<IcMetrics> metrics;         ///< per system
  std::vector<IcContingency> extremes;    ///< per system, with --extremes (else empty)
};

struct BatchRecord {
  int64_t batch = 0;          ///< index among the run's batches
  SlotRange slots;            ///< the run's IC slots it covers
  std::vector<IcScores> ics;  ///< one per slot, in slot order
  std::string part;           ///< the fields part file (absolute once read from a journal); "" without fields
  int64_t part_bytes = -1;    ///< the part's size when committed (a Zarr store: all its files); -1 unknown
  RolloutStats stats;         ///< its share of the run's timings
  int rank = 0;               ///< the MPI rank that ran it (for messages)
};

/// CBOR bytes of a record. Never throws for a well-formed record.
std::string encode_batch_record(const BatchRecord& record);
/// Throws InputError naming `origin` if the bytes are not a batch record.
BatchRecord decode_batch_record(const std::string& bytes, const std::string& origin);

/// Several records in one byte string (what an MPI rank sends to rank 0).
std::string encode_batch_records(const std::vector<BatchRecord>& records);
std::vector<BatchRecord> decode_batch_records(const std::string& bytes, const std::string& origin);

/// The sum of the records' timings (seconds, day-steps, IC-days).
RolloutStats total_stats(const std::vector<BatchRecord>& records);

}  // namespace neuralom
