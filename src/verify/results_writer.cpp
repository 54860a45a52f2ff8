#include "neuralom/verify/results_writer.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

constexpr const char* kTruth = "ground_truth";
constexpr const char* kPredicted = "predicted";

/// Rejects layouts the writer cannot represent, before any file is created.
void check_layout(const std::string& path, const ResultsLayout& l) {
  const auto fail = [&](const std::string& what) {
    throw ConfigError(path + ": invalid results layout: " + what);
  };
  if (l.ics.empty()) fail("no initial conditions");
  if (l.leads.empty()) fail("no lead days to save");
  if (l.channels.empty()) fail("no channels to save");
  if (l.ocean_channels <= 0 || l.height <= 0 || l.width <= 0) {
    fail("empty frame of " + std::to_string(l.ocean_channels) + " channels of " + std::to_string(l.height) + " x " +
         std::to_string(l.width));
  }
  if (l.leads.front() < 0 || !std::is_sorted(l.leads.begin(), l.leads.end()) ||
      std::adjacent_find(l.leads.begin(), l.leads.end()) != l.leads.end()) {
    fail("lead days must be >= 0, ascending and without repeats");
  }
  if (!std::is_sorted(l.channels.begin(), l.channels.end()) ||
      std::adjacent_find(l.channels.begin(), l.channels.end()) != l.channels.end()) {
    fail("channels must be ascending and without repeats");
  }
  if (l.channels.front() < 0 || l.channels.back() >= l.ocean_channels) {
    fail("channel " + std::to_string(l.channels.front() < 0 ? l.channels.front() : l.channels.back()) +
         " is out of range (the model has " + std::to_string(l.ocean_channels) + " ocean channels)");
  }
  if (static_cast<int64_t>(l.channel_names.size()) != l.ocean_channels) {
    fail(std::to_string(l.channel_names.size()) + " channel names for " + std::to_string(l.ocean_channels) +
         " ocean channels");
  }
  if (l.gzip_level < 0 || l.gzip_level > 9) fail("gzip level " + std::to_string(l.gzip_level) + " is not in 0..9");
}

std::size_t to_index(int64_t i) { return static_cast<std::size_t>(i); }

/// The saved channels of a `[ocean_channels, H, W]` frame, contiguous: the frame itself when every
/// channel is saved (`buffer` is then empty), else a copy of the subset in `buffer`.
const float* saved_channels(const ResultsLayout& layout, std::vector<float>& buffer, const float* frame) {
  if (buffer.empty()) return frame;
  const auto plane = to_index(layout.height * layout.width);
  for (std::size_t i = 0; i < layout.channels.size(); ++i) {
    std::memcpy(buffer.data() + i * plane, frame + to_index(layout.channels[i]) * plane, plane * sizeof(float));
  }
  return buffer.data();
}

}  // namespace

ResultsWriter::ResultsWriter(const std::string& path, ResultsLayout layout,
                             const std::vector<std::pair<std::string, std::string>>& attributes)
    : layout_(std::move(layout)) {
  check_layout(path, layout_);
  pending_ = std::make_unique<PendingFile>(path);
  file_ = std::make_unique<H5File>(H5File::create(pending_->temp_path()));

  const auto n_ic = static_cast<int64_t>(layout_.ics.size());
  const auto n_lead = static_cast<int64_t>(layout_.leads.size());
  const auto n_channel = static_cast<int64_t>(layout_.channels.size());
  const std::vector<int64_t> shape{n_ic, n_lead, n_channel, layout_.height, layout_.width};
  // One chunk per (IC, lead) frame: each write() fills whole chunks, so HDF5 never has to read a
  // chunk back to update part of it, and a reader of one frame decompresses only that frame.
  const std::vector<int64_t> chunk{1, 1, n_channel, layout_.height, layout_.width};
  std::vector<std::string> saved_names;
  for (const int64_t c : layout_.channels) saved_names.push_back(layout_.channel_names[to_index(c)]);

  for (const char* name : {kTruth, kPredicted}) {
    file_->create_float_dataset(name, shape, chunk, layout_.gzip_level);
    file_->write_attribute(name, "dimensions", std::vector<std::string>{"ic", "lead", "channel", "row", "column"});
    file_->write_attribute(name, "ics", layout_.ics);
    file_->write_attribute(name, "leads", layout_.leads);
    file_->write_attribute(name, "channels", layout_.channels);
    file_->write_attribute(name, "variables", saved_names);
    file_->write_attribute(name, "units",
                           "de-normalised anomalies in the data's physical units (climatology not added back)");
  }
  file_->write_attribute("", "channel_names", layout_.channel_names);
  for (const auto& [key, value] : attributes) file_->write_attribute("", key, value);

  lead_slot_.assign(to_index(layout_.leads.back() + 1), -1);
  for (std::size_t slot = 0; slot < layout_.leads.size(); ++slot) {
    lead_slot_[to_index(layout_.leads[slot])] = static_cast<int64_t>(slot);
  }
  written_.assign(to_index(n_ic * n_lead), false);
  if (n_channel != layout_.ocean_channels) {
    frame_buffer_.resize(to_index(n_channel * layout_.height * layout_.width));
  }
}

// Members are destroyed in reverse order of declaration: file_ (closing the HDF5 file) before
// pending_, which deletes the temporary file unless commit() renamed it.
ResultsWriter::~ResultsWriter() = default;

bool ResultsWriter::saves_lead(int64_t lead) const {
  return lead >= 0 && lead < static_cast<int64_t>(lead_slot_.size()) && lead_slot_[to_index(lead)] >= 0;
}

void ResultsWriter::write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) {
  if (!saves_lead(lead)) return;
  if (!file_) throw OutputError(pending_->final_path() + ": write() after commit()");
  if (ic_slot < 0 || ic_slot >= static_cast<int64_t>(layout_.ics.size())) {
    throw OutputError(pending_->final_path() + ": initial-condition slot " + std::to_string(ic_slot) +
                      " is out of range (the file holds " + std::to_string(layout_.ics.size()) + ")");
  }
  const int64_t slot = lead_slot_[to_index(lead)];
  const auto n_channel = static_cast<int64_t>(layout_.channels.size());
  const std::vector<int64_t> start{ic_slot, slot, 0, 0, 0};
  const std::vector<int64_t> count{1, 1, n_channel, layout_.height, layout_.width};
  file_->write(kTruth, start, count, saved_channels(layout_, frame_buffer_, truth));
  file_->write(kPredicted, start, count, saved_channels(layout_, frame_buffer_, pred));
  written_[to_index(ic_slot * static_cast<int64_t>(layout_.leads.size()) + slot)] = true;
}

void ResultsWriter::commit() {
  if (!file_) throw OutputError(pending_->final_path() + ": commit() called twice");
  const std::size_t n_lead = layout_.leads.size();
  const auto missing = std::find(written_.begin(), written_.end(), false);
  if (missing != written_.end()) {
    const auto i = static_cast<std::size_t>(missing - written_.begin());
    const auto n_missing = std::count(written_.begin(), written_.end(), false);
    throw OutputError(pending_->final_path() + ": incomplete results: initial condition " +
                      std::to_string(layout_.ics[i / n_lead]) + " (slot " + std::to_string(i / n_lead) + "), lead " +
                      std::to_string(layout_.leads[i % n_lead]) + " was never written (" +
                      std::to_string(n_missing) + " of " + std::to_string(written_.size()) + " frames missing)");
  }
  file_->close();
  file_.reset();
  pending_->commit();
}

}  // namespace neuralom
