// The fields file of a run, whatever its format (results_writer: the reference's HDF5 layout;
// netcdf_results_writer: CF-NetCDF or Zarr): frames arrive one (IC, lead) at a time, as the rollout
// produces them, and the file appears under its final name only when every frame is in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuralom {

/// What a fields file holds.
struct ResultsLayout {
  std::vector<int64_t> ics;                 ///< initial-condition day indices (axis 0, in this order)
  std::vector<int64_t> leads;               ///< lead days saved (axis 1), ascending, 0 = initial state
  std::vector<int64_t> channels;            ///< indices into the model's ocean channels saved, ascending
  std::vector<std::string> channel_names;   ///< names of all ocean channels (indexed by channel index)
  int64_t ocean_channels = 0;               ///< channels per input frame (93 for the reference)
  int64_t height = 0;
  int64_t width = 0;
  int gzip_level = 0;                       ///< 0 = uncompressed (the reference), 1..9 = gzip level
};

/// Rejects layouts a writer cannot represent, before any file is created. Throws ConfigError
/// ("<path>: invalid results layout: ...").
void check_results_layout(const std::string& path, const ResultsLayout& layout);

class FieldsWriter {
 public:
  virtual ~FieldsWriter() = default;

  virtual const ResultsLayout& layout() const = 0;
  /// True if frames should carry absolute values (anomaly + that day's climatology) rather than
  /// the anomalies the model works with.
  virtual bool wants_absolute_values() const = 0;
  /// True if lead `lead` is one of the saved leads.
  virtual bool saves_lead(int64_t lead) const = 0;

  /// Writes one frame. `ic_slot` indexes layout().ics; `truth` and `pred` point to float32
  /// `[ocean_channels, H, W]` in physical units (all channels; the saved subset is picked by the
  /// writer). Leads that are not saved are ignored. Throws OutputError.
  virtual void write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) = 0;

  /// Copies every frame of `part` — a committed file of the same kind and layout, but holding only
  /// the ICs of slots [first_slot, first_slot + n) of this one (a batch's fields, engine/merge.h) —
  /// to those slots, unchanged. Throws InputError if the part cannot be read or does not fit,
  /// OutputError if this file cannot be written.
  virtual void append_part(const std::string& part, int64_t first_slot) = 0;

  /// Verifies that every frame was written, closes the file and renames it into place. Throws
  /// OutputError (naming the first missing frame) otherwise.
  virtual void commit() = 0;
};

/// Which (IC, lead) frames of a layout have been written: the bookkeeping every FieldsWriter needs.
class FrameLedger {
 public:
  explicit FrameLedger(const ResultsLayout& layout);

  bool saves_lead(int64_t lead) const;
  /// Position of a saved lead on the lead axis (−1 if not saved).
  int64_t lead_slot(int64_t lead) const;
  /// Checks `ic_slot` and records the frame. Throws OutputError naming `path` if it is out of range.
  void mark_written(const std::string& path, int64_t ic_slot, int64_t lead);
  /// Throws OutputError naming `path` and the first frame never written.
  void check_complete(const std::string& path) const;

 private:
  std::vector<int64_t> ics_;
  std::vector<int64_t> leads_;
  std::vector<int64_t> lead_slot_;  // lead day -> axis-1 slot, -1 if not saved
  std::vector<bool> written_;       // [ic_slot * n_leads + lead_slot]
};

}  // namespace neuralom
