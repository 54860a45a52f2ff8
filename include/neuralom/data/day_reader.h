// Reader + normaliser for one day of model input: `fields[time(day)]` for a set of channels,
// rows [0, H) and columns [0, W), minus the climatology of that day, normalised (data/normaliser.h).
//
// Ocean data: time(day) = day, climatology subtracted from every channel (forcing channels too,
// as the reference's inference does). Atmosphere data: time(day) = 2 + 4·day (the daily snapshot
// of a 6-hourly file), no climatology.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/fields.h"
#include "neuralom/data/stats.h"

namespace neuralom {

struct DayReaderSpec {
  std::vector<int64_t> channels;  ///< file channel indices to return, in this order
  int64_t height = 0;             ///< rows used (the file may have more, e.g. 361 for 360)
  int64_t width = 0;              ///< columns used
  int64_t time_offset = 0;        ///< time index of day 0
  int64_t time_stride = 1;        ///< time steps per day
  bool pin_memory = false;        ///< allocate results in pinned host memory
};

class DayReader {
 public:
  /// `stats` is indexed by file channel and covers the channels read. `climatology` may be
  /// null. Validates channels, grid and the climatology's shape against the file; throws InputError.
  DayReader(std::shared_ptr<const FieldsFile> file, std::shared_ptr<const Climatology> climatology,
            const NormStats& stats, DayReaderSpec spec);

  /// Days available in the file (and climatology), i.e. the largest valid day + 1.
  int64_t days() const { return days_; }
  const DayReaderSpec& spec() const { return spec_; }
  const FieldsFile& file() const { return *file_; }

  /// Normalised float32 `[channels, H, W]` of `day`. Thread-safe. Throws InputError.
  at::Tensor read(int64_t day) const;

 private:
  std::shared_ptr<const FieldsFile> file_;
  std::shared_ptr<const Climatology> climatology_;
  NormStats stats_;       // of spec_.channels, in order
  DayReaderSpec spec_;
  int64_t first_channel_ = 0;  // span [first_channel_, first_channel_ + span_) read from the file
  int64_t span_ = 0;
  bool contiguous_ = true;     // channels are exactly that span, in order
  std::vector<int64_t> local_index_;  // position of each requested channel inside the span
  int64_t days_ = 0;
};

}  // namespace neuralom
