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
#include "neuralom/verify/fields_writer.h"

namespace neuralom {

class ResultsWriter : public FieldsWriter {
 public:
  /// Creates "<path>.partial" with both datasets and descriptive attributes (ics, leads, channels,
  /// channel names, units note, `attributes` as extra root string attributes "key=value").
  /// Throws OutputError; ConfigError for an inconsistent layout (empty lists, out-of-range channel).
  ResultsWriter(const std::string& path, ResultsLayout layout,
                const std::vector<std::pair<std::string, std::string>>& attributes = {});
  ~ResultsWriter() override;  ///< an uncommitted file is deleted

  const ResultsLayout& layout() const override { return layout_; }
  /// The reference's layout holds anomalies.
  bool wants_absolute_values() const override { return false; }
  bool saves_lead(int64_t lead) const override { return ledger_.saves_lead(lead); }
  /// Writes one frame of both datasets (see FieldsWriter::write).
  void write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) override;
  void append_part(const std::string& part, int64_t first_slot) override;
  void commit() override;

 private:
  ResultsLayout layout_;
  FrameLedger ledger_;
  std::unique_ptr<PendingFile> pending_;
  std::unique_ptr<H5File> file_;
  std::vector<float> frame_buffer_;  // channel subset staging
};

}  // namespace neuralom
