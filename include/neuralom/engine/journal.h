// The journal of a run, kept in its output directory while it runs: what lets an interrupted run
// continue where it stopped (--resume), and what independent shards leave for `neuralom merge`.
//
//   <output>/journal/journal.json             the header (JSON, below)
//   <output>/journal/batch-000003.cbor        one per finished batch: its BatchRecord (per-IC score
//                                             sums of every system, timings; engine/batch_record.h)
//   <output>/journal/parts/batch-000003.h5    that batch's fields (with --save-fields), in the run's
//                                             format (.h5, .nc or .zarr)
//
// The header holds the format ("neuralom-journal-1"), the engine version, the command that resumes
// the run, the result-deciding settings (engine/run_settings_json.h) and their SHA-256 fingerprint,
// the shard, the number of batches, every input file with its size, modification time and SHA-256
// (null until hashed; data files are hashed in the background and the header is rewritten when
// the digests are ready), and the extreme-event thresholds once computed.
//
// Every file appears under its final name only when complete (a temporary name, then rename(2):
// io/output_file.h), and a batch's part before its record, so a batch is finished exactly when its
// record exists; a record that cannot be read counts as unfinished. A run that completes removes
// its journal once the final outputs are in place; a shard keeps it, as its output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "neuralom/engine/batch_record.h"
#include "neuralom/engine/provenance.h"
#include "neuralom/engine/run_plan.h"

namespace neuralom {

class Journal {
 public:
  /// <output_dir>/journal
  static std::string directory_of(const std::string& output_dir);
  /// True if output_dir holds a journal header.
  static bool exists_in(const std::string& output_dir);

  /// Starts a new journal in `output_dir` with `header`, removing an earlier one. Throws OutputError.
  static Journal create(const std::string& output_dir, const nlohmann::ordered_json& header);
  /// Opens the journal of `output_dir`. Throws InputError if there is none, or its header is
  /// unreadable or lacks an entry the engine reads (naming it).
  static Journal open(const std::string& output_dir);

  const std::string& directory() const { return directory_; }
  /// <journal>/journal.json.
  std::string header_path() const;
  const nlohmann::ordered_json& header() const { return header_; }
  /// Replaces the header (atomically). Throws OutputError.
  void write_header(nlohmann::ordered_json header);

  /// Indices of the batches with a record, ascending. Never throws.
  std::vector<int64_t> finished_batches() const;
  /// The readable records of finished batches in [batches.begin, batches.end), ascending; a record
  /// that cannot be read, or whose part is missing or no longer has the size it was written with,
  /// is reported with a warning and left out (that batch runs again).
  std::vector<BatchRecord> read_finished(const SlotRange& batches) const;
  /// Reads one record; its part path is made absolute. Throws InputError.
  BatchRecord read_batch(int64_t batch) const;
  /// Writes a record (its part, if any, must be committed already; its size is recorded). Throws
  /// OutputError.
  void write_batch(const BatchRecord& record) const;

  /// Where a batch's fields part goes: <journal>/parts/batch-000003<extension>.
  std::string part_path(int64_t batch, const std::string& extension) const;

  /// Deletes the journal and its parts. Never throws (a leftover is reported).
  void remove() const;

 private:
  Journal(std::string directory, nlohmann::ordered_json header);
  std::string record_path(int64_t batch) const;

  std::string directory_;
  nlohmann::ordered_json header_;
};

/// The header of a new journal for `plan` (batches: the run's number of batches; threads: the
/// intra-op threads of each process). The models' digests are waited for; data digests are filled
/// in by record_digests() as they arrive.
nlohmann::ordered_json new_journal_header(const RunPlan& plan, const RunProvenance& provenance, int64_t batches,
                                          int threads);

/// Fills the inputs' missing SHA-256s from `digests` (path → hex). Returns true if any was added.
bool record_digests(nlohmann::ordered_json& header, const std::map<std::string, std::string>& digests);

/// The inputs' SHA-256s recorded in a header (path → hex).
std::map<std::string, std::string> journaled_digests(const nlohmann::ordered_json& header);

/// Throws unless the run journaled in `journaled` can be continued by the run whose header is
/// `now`: ConfigError naming the first setting that differs (or the shard), InputError naming an
/// input file that is another file or changed (SHA-256 where the journal has it and this run
/// hashes the file, else size and modification time), or extreme thresholds read from a file that no
/// longer match the journaled ones. `provenance` is this run's. Another device or
/// thread count is allowed, with a warning: the remaining ICs' fields may then differ in the last bits.
void check_resumable(const nlohmann::ordered_json& journaled, const nlohmann::ordered_json& now,
                     const RunProvenance& provenance, const std::string& output_dir);

/// Throws unless every input in `journaled_inputs` (a header's "inputs") is the same file, unchanged,
/// in `now_inputs`: ConfigError if one is missing or another path, InputError if it changed (SHA-256
/// where both sides have it, else size and modification time). Messages start with `prefix` and end
/// with "restore it, or <again>".
void check_inputs_unchanged(const nlohmann::ordered_json& journaled_inputs, const nlohmann::ordered_json& now_inputs,
                            const RunProvenance& provenance, const std::string& prefix, const std::string& again);

/// Whether both headers record extreme thresholds and their values differ. Their sources are not
/// compared: a threshold file is named as it was typed, and compared as an input.
bool recorded_thresholds_differ(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);

/// Records the extreme thresholds in use, with their source.
void record_thresholds(nlohmann::ordered_json& header, const ExtremesSpec& spec);
/// The thresholds recorded in a header, if any (`[variable][quantile]`, and their source). InputError,
/// naming `where`, unless they have one row per variable of `spec`, one pair per quantile, and a lower
/// threshold wherever both tails are scored.
std::optional<std::vector<std::vector<ExtremeThreshold>>> journaled_thresholds(const nlohmann::ordered_json& header,
                                                                               const ExtremesSpec& spec,
                                                                               const std::string& where,
                                                                               std::string& source);

}  // namespace neuralom
