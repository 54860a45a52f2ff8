#include "neuralom/data/day_reader.h"

#include <algorithm>
#include <sstream>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"
#include "neuralom/data/normaliser.h"

namespace neuralom {

DayReader::DayReader(std::shared_ptr<const FieldsFile> file, std::shared_ptr<const Climatology> climatology,
                     const NormStats& stats, DayReaderSpec spec)
    : file_(std::move(file)), climatology_(std::move(climatology)), spec_(std::move(spec)) {
  const FieldsShape& s = file_->shape();
  const std::string where = file_->path() + ":/" + file_->dataset();
  if (spec_.channels.empty()) throw InputError(where + ": no channels requested");
  for (const auto c : spec_.channels) {
    if (c < 0 || c >= s.channels) {
      std::ostringstream msg;
      msg << where << " has shape " << s.shape_string() << ": channel " << c
          << " does not exist (the configuration expects at least " << *std::max_element(spec_.channels.begin(), spec_.channels.end()) + 1
          << " channels)";
      throw InputError(msg.str());
    }
  }
  // The statistics are indexed by the file's channel numbers, as the reference indexes them; they
  // may hold more channels than the file (or fewer, as long as the channels read are covered).
  const int64_t highest = *std::max_element(spec_.channels.begin(), spec_.channels.end());
  if (stats.channels() <= highest) {
    std::ostringstream msg;
    msg << stats.mean_path << " and " << stats.std_path << " hold " << stats.channels() << " channels, but channel "
        << highest << " of " << where << " (shape " << s.shape_string() << ") is read";
    throw InputError(msg.str());
  }
  if (s.rows < spec_.height || s.cols != spec_.width) {
    std::ostringstream msg;
    msg << where << " has shape " << s.shape_string() << ", expected at least " << spec_.height << " rows and exactly "
        << spec_.width << " columns for the models' " << spec_.height << "x" << spec_.width << " grid";
    throw InputError(msg.str());
  }
  if (climatology_) {
    const FieldsShape& c = climatology_->shape();
    // The rows used, [0, height), must exist; the columns are the grid's (as plan_run checks).
    if (c.channels != s.channels || c.rows < spec_.height || c.cols != spec_.width) {
      std::ostringstream msg;
      msg << climatology_->path() << " has shape " << c.shape_string() << ", which does not match " << where
          << " " << s.shape_string() << " (expected [days, " << s.channels << ", >=" << spec_.height << ", "
          << spec_.width << "] or one field [" << s.channels << ", >=" << spec_.height << ", " << spec_.width << "])";
      throw InputError(msg.str());
    }
  }
  stats_ = stats.select(spec_.channels);
  const auto [lo, hi] = std::minmax_element(spec_.channels.begin(), spec_.channels.end());
  first_channel_ = *lo;
  span_ = *hi - *lo + 1;
  for (std::size_t i = 0; i < spec_.channels.size(); ++i) {
    local_index_.push_back(spec_.channels[i] - first_channel_);
    contiguous_ = contiguous_ && local_index_[i] == static_cast<int64_t>(i);
  }
  contiguous_ = contiguous_ && static_cast<int64_t>(spec_.channels.size()) == span_;

  const int64_t file_days = s.times > spec_.time_offset ? (s.times - spec_.time_offset - 1) / spec_.time_stride + 1 : 0;
  days_ = file_days;
  if (climatology_ && !climatology_->single_field()) days_ = std::min(days_, climatology_->shape().times);
}

at::Tensor DayReader::read(int64_t day) const {
  if (day < 0 || day >= days_) {
    std::ostringstream msg;
    msg << file_->path() << ": day " << day << " requested but only days 0.." << days_ - 1 << " are available";
    if (climatology_ && !climatology_->single_field()) msg << " (in the data and the climatology)";
    throw InputError(msg.str());
  }
  const int64_t t = spec_.time_offset + day * spec_.time_stride;
  at::Tensor x = file_->read(t, first_channel_, span_, spec_.height, spec_.width);
  at::Tensor c;
  if (climatology_) c = climatology_->read(day, first_channel_, span_, spec_.height, spec_.width);
  if (!contiguous_) {
    const at::Tensor idx = at::tensor(local_index_, at::kLong);
    x = x.index_select(0, idx);
    if (c.defined()) c = c.index_select(0, idx);
  }
  return normalise_day(x, c, stats_, spec_.pin_memory);
}

}  // namespace neuralom
