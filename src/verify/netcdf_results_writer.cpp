#include "neuralom/verify/netcdf_results_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/data/calendar.h"

namespace neuralom {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::size_t to_index(int64_t i) { return static_cast<std::size_t>(i); }

std::vector<std::string> saved_names(const ResultsLayout& layout) {
  std::vector<std::string> names;
  for (const int64_t c : layout.channels) names.push_back(layout.channel_names[to_index(c)]);
  return names;
}

std::vector<double> saved_depths(const ResultsLayout& layout, const std::vector<double>& channel_depths) {
  std::vector<double> depths;
  for (const int64_t c : layout.channels) depths.push_back(channel_depths[to_index(c)]);
  return depths;
}

void check_options(const std::string& path, const ResultsLayout& layout, const NetcdfResultsOptions& o) {
  const auto fail = [&](const std::string& what) { throw ConfigError(path + ": invalid NetCDF layout: " + what); };
  if (static_cast<int64_t>(o.latitudes.size()) != layout.height) fail("latitudes do not match the grid's rows");
  if (static_cast<int64_t>(o.longitudes.size()) != layout.width) fail("longitudes do not match the grid's columns");
  if (static_cast<int64_t>(o.channel_depths.size()) != layout.ocean_channels) fail("one depth per channel expected");
  if (!o.ocean_mask.defined() || o.ocean_mask.dim() != 3 || o.ocean_mask.size(0) != layout.ocean_channels ||
      o.ocean_mask.size(1) != layout.height || o.ocean_mask.size(2) != layout.width) {
    fail("the ocean mask must be [channels, H, W]");
  }
}

}  // namespace

NetcdfResultsWriter::NetcdfResultsWriter(const std::string& path, ResultsLayout layout, NetcdfResultsOptions options)
    : layout_((check_results_layout(path, layout), std::move(layout))),
      options_((check_options(path, layout_, options), std::move(options))),
      ledger_(layout_),
      cf_(cf_layout(saved_names(layout_), saved_depths(layout_, options_.channel_depths))) {
  const at::Tensor mask = options_.ocean_mask.to(at::kBool).cpu().contiguous();
  const auto plane = to_index(layout_.height * layout_.width);
  for (const int64_t c : layout_.channels) {
    const bool* ocean = mask[c].data_ptr<bool>();
    std::vector<uint8_t> land(plane);
    for (std::size_t i = 0; i < plane; ++i) land[i] = ocean[i] ? 0 : 1;
    land_.push_back(std::move(land));
  }
  block_.resize(std::max<std::size_t>(cf_.depths.size(), 1) * plane);
  pending_ = std::make_unique<PendingFile>(path);
  file_ = std::make_unique<NetcdfFile>(NetcdfFile::create(pending_->temp_path(), options_.format));
  define();
}

// file_ (closing the dataset) goes before pending_, which deletes the temporary unless committed.
NetcdfResultsWriter::~NetcdfResultsWriter() = default;

void NetcdfResultsWriter::define() {
  NetcdfFile& f = *file_;
  const auto n_ic = static_cast<int64_t>(layout_.ics.size());
  const auto n_lead = static_cast<int64_t>(layout_.leads.size());
  const auto n_depth = static_cast<int64_t>(cf_.depths.size());
  const std::string time_units = days_since_units(options_.year);

  f.define_dimension("time", n_ic);
  f.define_dimension("lead", n_lead);
  if (n_depth > 0) f.define_dimension("depth", n_depth);
  f.define_dimension("latitude", layout_.height);
  f.define_dimension("longitude", layout_.width);

  f.define_variable("time", NetcdfType::kInt32, {"time"});
  f.put_attribute("time", "standard_name", "forecast_reference_time");
  f.put_attribute("time", "long_name", "initial condition (forecast reference time)");
  f.put_attribute("time", "units", time_units);
  f.put_attribute("time", "calendar", "proleptic_gregorian");
  define_lead_coordinate(f);
  f.define_variable("valid_time", NetcdfType::kInt32, {"time", "lead"});
  f.put_attribute("valid_time", "standard_name", "time");
  f.put_attribute("valid_time", "long_name", "valid time (initial condition + lead)");
  f.put_attribute("valid_time", "units", time_units);
  f.put_attribute("valid_time", "calendar", "proleptic_gregorian");
  if (n_depth > 0) define_depth_coordinate(f);
  f.define_variable("latitude", NetcdfType::kFloat64, {"latitude"});
  f.put_attribute("latitude", "standard_name", "latitude");
  f.put_attribute("latitude", "long_name", "latitude");
  f.put_attribute("latitude", "units", "degrees_north");
  f.put_attribute("latitude", "axis", "Y");
  f.define_variable("longitude", NetcdfType::kFloat64, {"longitude"});
  f.put_attribute("longitude", "standard_name", "longitude");
  f.put_attribute("longitude", "long_name", "longitude");
  f.put_attribute("longitude", "units", "degrees_east");
  f.put_attribute("longitude", "axis", "X");

  std::vector<std::string> prefixes{""};
  if (options_.save_truth) prefixes.emplace_back("truth_");
  for (const auto& prefix : prefixes) {
    for (const std::size_t v : cf_.variables) {
      const CfVariable& var = cf_ocean_variables()[v];
      const std::string name = prefix + var.name;
      std::vector<std::string> dims{"time", "lead"};
      std::vector<int64_t> chunk{1, 1};
      if (var.has_depth) {
        dims.emplace_back("depth");
        chunk.push_back(n_depth);
      }
      dims.insert(dims.end(), {"latitude", "longitude"});
      chunk.insert(chunk.end(), {layout_.height, layout_.width});
      f.define_variable(name, NetcdfType::kFloat32, dims, chunk, layout_.gzip_level, /*nan_fill=*/true);
      std::string long_name = (prefix.empty() ? "" : "true ") + var.long_name;
      if (options_.anomalies) {
        // CF has no standard name for an anomaly: the long name and comment say what it is.
        f.put_attribute(name, "long_name", long_name + " anomaly");
        f.put_attribute(name, "comment", "anomaly relative to the day-of-year climatology of the valid day");
      } else {
        f.put_attribute(name, "standard_name", var.standard_name);
        f.put_attribute(name, "long_name", long_name);
      }
      f.put_attribute(name, "units", options_.anomalies ? var.difference_units : var.units);
      f.put_attribute(name, "coordinates", "valid_time");
    }
  }
  if (layout_.gzip_level > 0 && !f.compression_applied()) {
    spdlog::warn("{}: --compression {} ignored: this netCDF-C library has no zlib filter for Zarr stores "
                 "(written uncompressed)", pending_->final_path(), layout_.gzip_level);
  }

  f.put_attribute("", "Conventions", "CF-1.8");
  for (const auto& [key, value] : options_.attributes) f.put_attribute("", key, value);
  f.put_attribute("", "neuralom_values", options_.anomalies ? "anomalies" : "absolute");
  const auto [first_ic, last_ic] = std::minmax_element(layout_.ics.begin(), layout_.ics.end());
  f.put_attribute("", "time_coverage_start", date_of_day(options_.year, *first_ic).iso());
  f.put_attribute("", "time_coverage_end", date_of_day(options_.year, *last_ic + layout_.leads.back()).iso());
  f.end_definitions();

  std::vector<int32_t> ics(layout_.ics.begin(), layout_.ics.end());
  std::vector<int32_t> leads(layout_.leads.begin(), layout_.leads.end());
  f.write("time", {0}, {n_ic}, ics.data());
  f.write("lead", {0}, {n_lead}, leads.data());
  std::vector<int32_t> valid;
  for (const int32_t ic : ics) {
    for (const int32_t lead : leads) valid.push_back(ic + lead);
  }
  f.write("valid_time", {0, 0}, {n_ic, n_lead}, valid.data());
  if (n_depth > 0) f.write("depth", {0}, {n_depth}, cf_.depths.data());
  f.write("latitude", {0}, {layout_.height}, options_.latitudes.data());
  f.write("longitude", {0}, {layout_.width}, options_.longitudes.data());
}

void NetcdfResultsWriter::write_variables(const std::string& prefix, int64_t ic_slot, int64_t lead_slot,
                                          const float* frame) {
  const auto plane = to_index(layout_.height * layout_.width);
  const auto n_depth = static_cast<int64_t>(cf_.depths.size());
  for (const std::size_t v : cf_.variables) {
    const CfVariable& var = cf_ocean_variables()[v];
    const int64_t levels = var.has_depth ? n_depth : 1;
    std::fill(block_.begin(), block_.begin() + static_cast<std::ptrdiff_t>(to_index(levels) * plane), kNaN);
    for (std::size_t k = 0; k < layout_.channels.size(); ++k) {
      if (cf_.channel_variable[k] != v) continue;
      const int64_t level = var.has_depth ? cf_.channel_depth_index[k] : 0;
      float* out = block_.data() + to_index(level) * plane;
      const float* in = frame + to_index(layout_.channels[k]) * plane;
      const uint8_t* land = land_[k].data();
      for (std::size_t i = 0; i < plane; ++i) out[i] = land[i] != 0 ? kNaN : in[i];
    }
    std::vector<int64_t> start{ic_slot, lead_slot};
    std::vector<int64_t> count{1, 1};
    if (var.has_depth) {
      start.push_back(0);
      count.push_back(n_depth);
    }
    start.insert(start.end(), {0, 0});
    count.insert(count.end(), {layout_.height, layout_.width});
    file_->write(prefix + var.name, start, count, block_.data());
  }
}

void NetcdfResultsWriter::write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) {
  if (!saves_lead(lead)) return;
  if (!file_) throw OutputError(pending_->final_path() + ": write() after commit()");
  ledger_.mark_written(pending_->final_path(), ic_slot, lead);
  const int64_t slot = ledger_.lead_slot(lead);
  write_variables("", ic_slot, slot, pred);
  if (options_.save_truth) write_variables("truth_", ic_slot, slot, truth);
}

void NetcdfResultsWriter::append_part(const std::string& part, int64_t first_slot) {
  if (!file_) throw OutputError(pending_->final_path() + ": append_part() after commit()");
  const NetcdfFile in = NetcdfFile::open_read(part, options_.format);
  const int64_t n = in.dimension_length("time");
  const auto n_lead = static_cast<int64_t>(layout_.leads.size());
  const auto n_depth = static_cast<int64_t>(cf_.depths.size());
  if (n < 1 || first_slot < 0 || first_slot + n > static_cast<int64_t>(layout_.ics.size()) ||
      in.dimension_length("lead") != n_lead || in.dimension_length("latitude") != layout_.height ||
      in.dimension_length("longitude") != layout_.width || (n_depth > 0 && in.dimension_length("depth") != n_depth)) {
    throw InputError(part + ": its dimensions do not fit slots " + std::to_string(first_slot) + ".. of " +
                     pending_->final_path());
  }
  std::vector<std::string> prefixes{""};
  if (options_.save_truth) prefixes.emplace_back("truth_");
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t slot = 0; slot < n_lead; ++slot) {
      for (const auto& prefix : prefixes) {
        for (const std::size_t v : cf_.variables) {
          const CfVariable& var = cf_ocean_variables()[v];
          std::vector<int64_t> from{i, slot};
          std::vector<int64_t> to{first_slot + i, slot};
          std::vector<int64_t> count{1, 1};
          if (var.has_depth) {
            from.push_back(0);
            to.push_back(0);
            count.push_back(n_depth);
          }
          from.insert(from.end(), {0, 0});
          to.insert(to.end(), {0, 0});
          count.insert(count.end(), {layout_.height, layout_.width});
          in.read(prefix + var.name, from, count, block_.data());
          file_->write(prefix + var.name, to, count, block_.data());
        }
      }
      ledger_.mark_written(pending_->final_path(), first_slot + i, layout_.leads[to_index(slot)]);
    }
  }
}

void NetcdfResultsWriter::commit() {
  if (!file_) throw OutputError(pending_->final_path() + ": commit() called twice");
  ledger_.check_complete(pending_->final_path());
  file_->close();
  file_.reset();
  if (options_.format == NetcdfFormat::kZarr) consolidate_zarr_metadata(pending_->temp_path());
  pending_->commit();
}

}  // namespace neuralom
