#include "neuralom/verify/fields_writer.h"

#include <algorithm>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

std::size_t to_index(int64_t i) { return static_cast<std::size_t>(i); }

}  // namespace

void check_results_layout(const std::string& path, const ResultsLayout& l) {
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

FrameLedger::FrameLedger(const ResultsLayout& layout) : ics_(layout.ics), leads_(layout.leads) {
  lead_slot_.assign(to_index(leads_.empty() ? 0 : leads_.back() + 1), -1);
  for (std::size_t slot = 0; slot < leads_.size(); ++slot) lead_slot_[to_index(leads_[slot])] = static_cast<int64_t>(slot);
  written_.assign(ics_.size() * leads_.size(), false);
}

bool FrameLedger::saves_lead(int64_t lead) const { return lead_slot(lead) >= 0; }

int64_t FrameLedger::lead_slot(int64_t lead) const {
  return lead >= 0 && lead < static_cast<int64_t>(lead_slot_.size()) ? lead_slot_[to_index(lead)] : -1;
}

void FrameLedger::mark_written(const std::string& path, int64_t ic_slot, int64_t lead) {
  if (ic_slot < 0 || ic_slot >= static_cast<int64_t>(ics_.size())) {
    throw OutputError(path + ": initial-condition slot " + std::to_string(ic_slot) +
                      " is out of range (the file holds " + std::to_string(ics_.size()) + ")");
  }
  const int64_t slot = lead_slot(lead);
  if (slot < 0) throw OutputError(path + ": lead " + std::to_string(lead) + " is not saved");
  written_[to_index(ic_slot) * leads_.size() + to_index(slot)] = true;
}

void FrameLedger::check_complete(const std::string& path) const {
  const std::size_t n_lead = leads_.size();
  const auto missing = std::find(written_.begin(), written_.end(), false);
  if (missing == written_.end()) return;
  const auto i = static_cast<std::size_t>(missing - written_.begin());
  const auto n_missing = std::count(written_.begin(), written_.end(), false);
  throw OutputError(path + ": incomplete results: initial condition " + std::to_string(ics_[i / n_lead]) + " (slot " +
                    std::to_string(i / n_lead) + "), lead " + std::to_string(leads_[i % n_lead]) +
                    " was never written (" + std::to_string(n_missing) + " of " + std::to_string(written_.size()) +
                    " frames missing)");
}

}  // namespace neuralom
