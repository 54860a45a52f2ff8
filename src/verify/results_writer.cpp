#include "neuralom/verify/results_writer.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

constexpr const char* kTruth = "ground_truth";
constexpr const char* kPredicted = "predicted";

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
    : layout_((check_results_layout(path, layout), std::move(layout))), ledger_(layout_) {
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
    // The initial conditions' dimension extensible, as in the reference's file (maxshape None).
    file_->create_float_dataset(name, shape, chunk, layout_.gzip_level, /*extensible_first=*/true);
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

  if (n_channel != layout_.ocean_channels) {
    frame_buffer_.resize(to_index(n_channel * layout_.height * layout_.width));
  }
}

// Members are destroyed in reverse order of declaration: file_ (closing the HDF5 file) before
// pending_, which deletes the temporary file unless commit() renamed it.
ResultsWriter::~ResultsWriter() = default;

void ResultsWriter::write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) {
  if (!saves_lead(lead)) return;
  if (!file_) throw OutputError(pending_->final_path() + ": write() after commit()");
  ledger_.mark_written(pending_->final_path(), ic_slot, lead);
  const int64_t slot = ledger_.lead_slot(lead);
  const auto n_channel = static_cast<int64_t>(layout_.channels.size());
  const std::vector<int64_t> start{ic_slot, slot, 0, 0, 0};
  const std::vector<int64_t> count{1, 1, n_channel, layout_.height, layout_.width};
  file_->write(kTruth, start, count, saved_channels(layout_, frame_buffer_, truth));
  file_->write(kPredicted, start, count, saved_channels(layout_, frame_buffer_, pred));
}

void ResultsWriter::append_part(const std::string& part, int64_t first_slot) {
  if (!file_) throw OutputError(pending_->final_path() + ": append_part() after commit()");
  const H5File in = H5File::open_read(part);
  const auto n_lead = static_cast<int64_t>(layout_.leads.size());
  const auto n_channel = static_cast<int64_t>(layout_.channels.size());
  const H5DatasetInfo info = in.dataset_info(kPredicted);
  const int64_t n = info.shape.empty() ? 0 : info.shape.front();
  const std::vector<int64_t> expected{n, n_lead, n_channel, layout_.height, layout_.width};
  for (const char* name : {kTruth, kPredicted}) {
    const H5DatasetInfo d = in.dataset_info(name);
    if (d.shape != expected || n < 1 || first_slot < 0 || first_slot + n > static_cast<int64_t>(layout_.ics.size())) {
      throw InputError(part + ": dataset '" + name + "' has shape " + d.shape_string() + ", which does not fit slots " +
                       std::to_string(first_slot) + ".. of " + pending_->final_path() + " (frames [" +
                       std::to_string(n_lead) + ", " + std::to_string(n_channel) + ", " +
                       std::to_string(layout_.height) + ", " + std::to_string(layout_.width) + "])");
    }
  }
  // One (IC, lead) frame is one chunk in both files (same writer, same layout): its stored bytes
  // are copied as they are, so a compressed part is not decompressed and compressed again.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t slot = 0; slot < n_lead; ++slot) {
      for (const char* name : {kTruth, kPredicted}) {
        file_->copy_chunk(in, name, {i, slot, 0, 0, 0}, {first_slot + i, slot, 0, 0, 0});
      }
      ledger_.mark_written(pending_->final_path(), first_slot + i, layout_.leads[to_index(slot)]);
    }
  }
}

void ResultsWriter::commit() {
  if (!file_) throw OutputError(pending_->final_path() + ": commit() called twice");
  ledger_.check_complete(pending_->final_path());
  file_->close();
  file_.reset();
  pending_->commit();
}

}  // namespace neuralom
