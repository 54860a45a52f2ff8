// results_simulation.h5 / results_forecasting.h5: the reference's output layout, written frame by
// frame as the rollout produces it.
//
// Datasets `ground_truth` and `predicted`, float32 `[N_ic, N_lead, N_channel, H, W]`, holding
// de-normalised anomalies (physical units, climatology not added back). With all leads and all
// channels this is exactly the reference's layout; subsets are recorded in attributes. Chunks are
// one (IC, lead) frame `[1, 1, N_channel, H, W]`; gzip compression is optional.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "neuralom/io/hdf5_file.h"
#include "neuralom/io/output_file.h"

namespace neuralom {

struct ResultsLayout {
  std::vector<int64_t> ics;                 ///< initial-condition day indices (axis 0, in this order)
  std::vector<int64_t> leads;               ///< lead days saved (axis 1), ascending, 0 = initial state
  std::vector<int64_t> channels;            ///< indices into the model's ocean channels saved (axis 2), ascending
  std::vector<std::string> channel_names;   ///< names of all ocean channels (indexed by channel index)
  int64_t ocean_channels = 0;               ///< channels per input frame (93 for the reference)
  int64_t height = 0;
  int64_t width = 0;
  int gzip_level = 0;                       ///< 0 = uncompressed (the reference), 1..9 = gzip level
};

class ResultsWriter {
 public:
  /// Creates "<path>.partial" with both datasets and descriptive attributes (ics, leads, channels,
  /// channel names, units note, `attributes` as extra root string attributes "key=value").
  /// Throws OutputError; ConfigError for an inconsistent layout (empty lists, out-of-range channel).
  ResultsWriter(const std::string& path, ResultsLayout layout,
                const std::vector<std::pair<std::string, std::string>>& attributes = {});
  ~ResultsWriter();  ///< an uncommitted file is deleted

  /// True if lead `lead` is one of the saved leads.
  bool saves_lead(int64_t lead) const;

  /// Writes one frame of both datasets. `ic_slot` indexes layout.ics; `truth` and `pred` point to
  /// float32 `[ocean_channels, H, W]` (all channels; the saved subset is picked here). Leads that
  /// are not saved are ignored. Throws OutputError.
  void write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred);

  /// Verifies that every (IC, lead) frame was written, closes the file and renames it into place.
  /// Throws OutputError (naming the first missing frame) otherwise.
  void commit();

  const ResultsLayout& layout() const { return layout_; }

 private:
  ResultsLayout layout_;
  std::unique_ptr<PendingFile> pending_;
  std::unique_ptr<H5File> file_;
  std::vector<int64_t> lead_slot_;   // lead day -> axis-1 slot, -1 if not saved
  std::vector<bool> written_;        // [ic_slot * n_leads + lead_slot]
  std::vector<float> frame_buffer_;  // channel subset staging
};

}  // namespace neuralom
