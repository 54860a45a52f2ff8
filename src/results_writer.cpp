#include "neuralom/results_writer.h"

#include <algorithm>
#include <cstring>

#include "neuralom/errors.h"

namespace neuralom {
namespace {

const char* const kDatasets[] = {"ground_truth", "predicted"};

void check_layout(const std::string& path, const ResultsLayout& l) {
  auto fail = [&](const std::string& what) { throw ConfigError(path + ": invalid results layout: " + what); };
  if (l.ics.empty() || l.leads.empty() || l.channels.empty()) fail("no initial conditions, leads or channels");
  if (l.ocean_channels <= 0 || l.height <= 0 || l.width <= 0) fail("empty frame");
  if (!std::is_sorted(l.leads.begin(), l.leads.end()) || l.leads.front() < 0) fail("leads must ascend from >= 0");
  if (std::adjacent_find(l.leads.begin(), l.leads.end()) != l.leads.end()) fail("repeated lead");
  if (!std::is_sorted(l.channels.begin(), l.channels.end()) ||
      std::adjacent_find(l.channels.begin(), l.channels.end()) != l.channels.end()) {
    fail("channels must ascend without repeats");
  }
  if (l.channels.front() < 0 || l.channels.back() >= l.ocean_channels) fail("channel out of range");
  if (static_cast<int64_t>(l.channel_names.size()) != l.ocean_channels) fail("one name per channel expected");
  if (l.gzip_level < 0 || l.gzip_level > 9) fail("gzip level must be 0..9");
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
  const auto n_ch = static_cast<int64_t>(layout_.channels.size());
  const std::vector<int64_t> shape{n_ic, n_lead, n_ch, layout_.height, layout_.width};
  const std::vector<int64_t> chunk{1, 1, n_ch, layout_.height, layout_.width};
  std::vector<std::string> names;
  for (const auto c : layout_.channels) names.push_back(layout_.channel_names[static_cast<std::size_t>(c)]);
  for (const char* name : kDatasets) {
    file_->create_float_dataset(name, shape, chunk, layout_.gzip_level);
    file_->write_attribute(name, "ics", layout_.ics);
    file_->write_attribute(name, "leads", layout_.leads);
    file_->write_attribute(name, "channels", layout_.channels);
    file_->write_attribute(name, "variables", names);
    file_->write_attribute(name, "dimensions", std::vector<std::string>{"ic", "lead", "channel", "row", "column"});
    file_->write_attribute(name, "units",
                           "de-normalised anomalies in the data's physical units (climatology not added back)");
  }
  for (const auto& [key, value] : attributes) file_->write_attribute("", key, value);

  lead_slot_.assign(static_cast<std::size_t>(layout_.leads.back() + 1), -1);
  for (std::size_t i = 0; i < layout_.leads.size(); ++i) {
    lead_slot_[static_cast<std::size_t>(layout_.leads[i])] = static_cast<int64_t>(i);
  }
  written_.assign(static_cast<std::size_t>(n_ic * n_lead), false);
  frame_buffer_.resize(static_cast<std::size_t>(n_ch * layout_.height * layout_.width));
}

ResultsWriter::~ResultsWriter() {
  // Close before the pending file deletes the temporary name.
  if (file_) {
    try {
      file_->close();
    } catch (const std::exception&) {  // the file is discarded anyway
    }
  }
}

bool ResultsWriter::saves_lead(int64_t lead) const {
  return lead >= 0 && lead < static_cast<int64_t>(lead_slot_.size()) && lead_slot_[static_cast<std::size_t>(lead)] >= 0;
}

void ResultsWriter::write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) {
  if (!saves_lead(lead)) return;
  if (ic_slot < 0 || ic_slot >= static_cast<int64_t>(layout_.ics.size())) {
    throw OutputError(pending_->final_path() + ": initial-condition slot " + std::to_string(ic_slot) + " out of range");
  }
  const int64_t slot = lead_slot_[static_cast<std::size_t>(lead)];
  const auto n_ch = static_cast<int64_t>(layout_.channels.size());
  const int64_t plane = layout_.height * layout_.width;
  const std::vector<int64_t> start{ic_slot, slot, 0, 0, 0};
  const std::vector<int64_t> count{1, 1, n_ch, layout_.height, layout_.width};
  const bool all_channels = n_ch == layout_.ocean_channels;
  const float* sources[] = {truth, pred};
  for (int k = 0; k < 2; ++k) {
    const float* data = sources[k];
    if (!all_channels) {
      for (int64_t i = 0; i < n_ch; ++i) {
        std::memcpy(frame_buffer_.data() + i * plane, data + layout_.channels[static_cast<std::size_t>(i)] * plane,
                    static_cast<std::size_t>(plane) * sizeof(float));
      }
      data = frame_buffer_.data();
    }
    file_->write(kDatasets[k], start, count, data);
  }
  written_[static_cast<std::size_t>(ic_slot * static_cast<int64_t>(layout_.leads.size()) + slot)] = true;
}

void ResultsWriter::commit() {
  const auto n_lead = layout_.leads.size();
  for (std::size_t i = 0; i < written_.size(); ++i) {
    if (!written_[i]) {
      throw OutputError(pending_->final_path() + ": incomplete: initial condition " +
                        std::to_string(layout_.ics[i / n_lead]) + ", lead " + std::to_string(layout_.leads[i % n_lead]) +
                        " was never written");
    }
  }
  file_->close();
  file_.reset();
  pending_->commit();
}

}  // namespace neuralom
