// NetcdfResultsWriter: a tiny run written and read back through netCDF-C — dimensions, coordinates,
// dates, attributes, values by variable and depth, land NaN, subsets, commit and clean-up.
#include "neuralom/verify/netcdf_results_writer.h"

#include <netcdf.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

constexpr int64_t kChannels = 4;  // S0, T0, T5, SSH
constexpr int64_t kHeight = 2;
constexpr int64_t kWidth = 3;
constexpr int64_t kPlane = kHeight * kWidth;

ResultsLayout layout() {
  ResultsLayout l;
  l.ics = {59, 60};  // 29 February and 1 March 2020
  l.leads = {0, 2};
  l.channels = {0, 1, 2, 3};
  l.channel_names = {"S0", "T0", "T5", "SSH"};
  l.ocean_channels = kChannels;
  l.height = kHeight;
  l.width = kWidth;
  return l;
}

NetcdfResultsOptions options() {
  NetcdfResultsOptions o;
  o.year = 2020;
  o.latitudes = {-45.0, 45.0};
  o.longitudes = {0.0, 120.0, 240.0};
  o.channel_depths = {0.494, 0.494, 5.078, std::nan("")};
  // Point 0 is land in every channel; point 5 is land for T5 only (a shallow coast).
  at::Tensor mask = at::ones({kChannels, kHeight, kWidth}, at::kBool);
  mask.view({kChannels, kPlane}).select(1, 0).fill_(false);
  mask[2].view({kPlane})[5] = false;
  o.ocean_mask = mask;
  return o;
}

/// Frame value: 1000·channel + 100·ic_slot + 10·lead + point (pred), negated for the truth.
std::vector<float> frame(int64_t ic_slot, int64_t lead, float sign) {
  std::vector<float> f(static_cast<std::size_t>(kChannels * kPlane));
  for (int64_t c = 0; c < kChannels; ++c) {
    for (int64_t i = 0; i < kPlane; ++i) {
      f[static_cast<std::size_t>(c * kPlane + i)] = sign * static_cast<float>(1000 * c + 100 * ic_slot + 10 * lead + i);
    }
  }
  return f;
}

void write_all(NetcdfResultsWriter& w) {
  for (int64_t ic = 0; ic < 2; ++ic) {
    for (const int64_t lead : {0, 1, 2}) {  // lead 1 is not saved and must be ignored
      const auto t = frame(ic, lead, -1.0F);
      const auto p = frame(ic, lead, 1.0F);
      w.write(ic, lead, t.data(), p.data());
    }
  }
}

class NcReader {
 public:
  explicit NcReader(const std::string& path) { EXPECT_EQ(nc_open(path.c_str(), NC_NOWRITE, &id_), NC_NOERR) << path; }
  ~NcReader() { nc_close(id_); }
  NcReader(const NcReader&) = delete;
  NcReader& operator=(const NcReader&) = delete;

  bool has(const std::string& var) const {
    int v = 0;
    return nc_inq_varid(id_, var.c_str(), &v) == NC_NOERR;
  }
  std::size_t dim(const std::string& name) const {
    int d = 0;
    std::size_t n = 0;
    if (nc_inq_dimid(id_, name.c_str(), &d) != NC_NOERR) return 0;
    nc_inq_dimlen(id_, d, &n);
    return n;
  }
  template <typename T>
  std::vector<T> values(const std::string& var, std::size_t n) const {
    int v = 0;
    EXPECT_EQ(nc_inq_varid(id_, var.c_str(), &v), NC_NOERR) << var;
    std::vector<T> out(n);
    if constexpr (std::is_same_v<T, float>) {
      nc_get_var_float(id_, v, out.data());
    } else if constexpr (std::is_same_v<T, double>) {
      nc_get_var_double(id_, v, out.data());
    } else {
      nc_get_var_int(id_, v, out.data());
    }
    return out;
  }
  std::string text(const std::string& var, const std::string& key) const {
    int v = NC_GLOBAL;
    if (!var.empty()) nc_inq_varid(id_, var.c_str(), &v);
    std::size_t n = 0;
    if (nc_inq_attlen(id_, v, key.c_str(), &n) != NC_NOERR) return "<none>";
    std::string out(n, '\0');
    nc_get_att_text(id_, v, key.c_str(), out.data());
    return out;
  }

 private:
  int id_ = -1;
};

TEST(NetcdfResultsWriterTest, AbsoluteFieldsWithCoordinatesAndDates) {
  const TempDir dir;
  const std::string path = dir.file("results.nc");
  NetcdfResultsOptions o = options();
  o.save_truth = true;
  o.attributes = {{"title", "test run"}};
  {
    NetcdfResultsWriter w(path, layout(), o);
    EXPECT_TRUE(w.wants_absolute_values());
    EXPECT_TRUE(w.saves_lead(2));
    EXPECT_FALSE(w.saves_lead(1));
    write_all(w);
    EXPECT_FALSE(fs::exists(path));
    w.commit();
  }
  EXPECT_FALSE(fs::exists(path + ".partial"));
  const NcReader nc(path);
  EXPECT_EQ(nc.dim("time"), 2U);
  EXPECT_EQ(nc.dim("lead"), 2U);
  EXPECT_EQ(nc.dim("depth"), 2U);
  EXPECT_EQ(nc.dim("latitude"), 2U);
  EXPECT_EQ(nc.dim("longitude"), 3U);
  EXPECT_EQ(nc.values<int>("time", 2), (std::vector<int>{59, 60}));
  EXPECT_EQ(nc.text("time", "units"), "days since 2020-01-01 00:00:00");
  EXPECT_EQ(nc.text("time", "calendar"), "proleptic_gregorian");
  EXPECT_EQ(nc.text("time", "standard_name"), "forecast_reference_time");
  EXPECT_EQ(nc.values<int>("lead", 2), (std::vector<int>{0, 2}));
  EXPECT_EQ(nc.text("lead", "standard_name"), "forecast_period");
  EXPECT_EQ(nc.values<int>("valid_time", 4), (std::vector<int>{59, 61, 60, 62}));
  EXPECT_EQ(nc.values<double>("depth", 2), (std::vector<double>{0.494, 5.078}));
  EXPECT_EQ(nc.text("depth", "positive"), "down");
  EXPECT_EQ(nc.values<double>("latitude", 2), (std::vector<double>{-45.0, 45.0}));
  EXPECT_EQ(nc.text("thetao", "standard_name"), "sea_water_potential_temperature");
  EXPECT_EQ(nc.text("thetao", "units"), "degrees_Celsius");
  EXPECT_EQ(nc.text("zos", "units"), "m");
  EXPECT_EQ(nc.text("", "Conventions"), "CF-1.8");
  EXPECT_EQ(nc.text("", "title"), "test run");
  EXPECT_EQ(nc.text("", "neuralom_values"), "absolute");
  EXPECT_EQ(nc.text("", "time_coverage_start"), "2020-02-29");
  EXPECT_FALSE(nc.has("uo"));  // no U or V channel
  EXPECT_FALSE(nc.has("vo"));
  ASSERT_TRUE(nc.has("truth_thetao"));

  // thetao [time, lead, depth, lat, lon]: T0 at depth 0, T5 at depth 1.
  const auto thetao = nc.values<float>("thetao", 2 * 2 * 2 * kPlane);
  auto at = [&](int64_t t, int64_t l, int64_t d, int64_t i) { return thetao[static_cast<std::size_t>(((t * 2 + l) * 2 + d) * kPlane + i)]; };
  EXPECT_TRUE(std::isnan(at(0, 0, 0, 0)));           // land
  EXPECT_FLOAT_EQ(at(0, 0, 0, 1), 1000.0F + 1.0F);    // T0, IC 0, lead 0, point 1
  EXPECT_FLOAT_EQ(at(1, 1, 0, 4), 1000.0F + 100.0F + 20.0F + 4.0F);  // IC 1, lead 2
  EXPECT_FLOAT_EQ(at(1, 1, 1, 3), 2000.0F + 100.0F + 20.0F + 3.0F);  // T5
  EXPECT_TRUE(std::isnan(at(1, 1, 1, 5)));           // land for T5 only
  EXPECT_FLOAT_EQ(at(1, 1, 0, 5), 1000.0F + 100.0F + 20.0F + 5.0F);
  // so has no channel at depth 1: NaN there.
  const auto so = nc.values<float>("so", 2 * 2 * 2 * kPlane);
  EXPECT_FLOAT_EQ(so[1], 1.0F);
  EXPECT_TRUE(std::isnan(so[static_cast<std::size_t>(kPlane + 1)]));
  // zos [time, lead, lat, lon] and the truth.
  const auto zos = nc.values<float>("zos", 2 * 2 * kPlane);
  EXPECT_FLOAT_EQ(zos[static_cast<std::size_t>(3 * kPlane + 2)], 3000.0F + 100.0F + 20.0F + 2.0F);
  const auto truth = nc.values<float>("truth_zos", 2 * 2 * kPlane);
  EXPECT_FLOAT_EQ(truth[2], -3002.0F);
}

TEST(NetcdfResultsWriterTest, AnomaliesHaveNoStandardName) {
  const TempDir dir;
  const std::string path = dir.file("results.nc");
  NetcdfResultsOptions o = options();
  o.anomalies = true;
  ResultsLayout l = layout();
  l.channels = {1, 3};  // T0 and SSH
  {
    NetcdfResultsWriter w(path, l, o);
    EXPECT_FALSE(w.wants_absolute_values());
    write_all(w);
    w.commit();
  }
  const NcReader nc(path);
  EXPECT_EQ(nc.dim("depth"), 1U);
  EXPECT_FALSE(nc.has("so"));
  EXPECT_FALSE(nc.has("truth_thetao"));
  EXPECT_EQ(nc.text("thetao", "standard_name"), "<none>");
  EXPECT_NE(nc.text("thetao", "long_name").find("anomaly"), std::string::npos);
  EXPECT_EQ(nc.text("", "neuralom_values"), "anomalies");
}

TEST(NetcdfResultsWriterTest, IncompleteOrAbandonedFilesDoNotAppear) {
  const TempDir dir;
  const std::string path = dir.file("results.nc");
  {
    NetcdfResultsWriter w(path, layout(), options());
    const auto f = frame(0, 0, 1.0F);
    w.write(0, 0, f.data(), f.data());
    try {
      w.commit();
      FAIL() << "commit of an incomplete file succeeded";
    } catch (const OutputError& e) {
      EXPECT_NE(std::string(e.what()).find("initial condition 59 (slot 0), lead 2 was never written"),
                std::string::npos) << e.what();
    }
    EXPECT_THROW(w.write(5, 0, f.data(), f.data()), OutputError);
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(NetcdfResultsWriterTest, RejectsInconsistentOptions) {
  const TempDir dir;
  NetcdfResultsOptions o = options();
  o.latitudes = {0.0};
  EXPECT_THROW(NetcdfResultsWriter(dir.file("a.nc"), layout(), o), ConfigError);
  ResultsLayout l = layout();
  l.channel_names[0] = "Q0";
  EXPECT_THROW(NetcdfResultsWriter(dir.file("b.nc"), l, options()), ConfigError);
  EXPECT_FALSE(fs::exists(dir.file("a.nc.partial")));
}

TEST(NetcdfResultsWriterTest, ZarrStoreWhereAvailable) {
  if (!netcdf_zarr_available()) GTEST_SKIP() << "netCDF-C without NCZarr";
  const TempDir dir;
  const std::string path = dir.file("results.zarr");
  NetcdfResultsOptions o = options();
  o.format = NetcdfFormat::kZarr;
  {
    NetcdfResultsWriter w(path, layout(), o);
    write_all(w);
    w.commit();
  }
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_TRUE(fs::exists(fs::path(path) / ".zmetadata"));
  EXPECT_TRUE(fs::exists(fs::path(path) / "thetao" / ".zarray"));
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(NetcdfResultsWriterTest, AppendedPartsEqualAFileWrittenFrameByFrame) {
  const TempDir dir;
  NetcdfResultsOptions o = options();
  o.save_truth = true;
  {
    NetcdfResultsWriter whole(dir.file("direct.nc"), layout(), o);
    write_all(whole);
    whole.commit();
  }
  for (int64_t ic = 0; ic < 2; ++ic) {
    ResultsLayout part_layout = layout();
    part_layout.ics = {layout().ics[static_cast<std::size_t>(ic)]};
    NetcdfResultsWriter part(dir.file("part" + std::to_string(ic) + ".nc"), part_layout, o);
    for (const int64_t lead : {0, 2}) {
      const auto t = frame(ic, lead, -1.0F);
      const auto p = frame(ic, lead, 1.0F);
      part.write(0, lead, t.data(), p.data());
    }
    part.commit();
  }
  {
    NetcdfResultsWriter merged(dir.file("merged.nc"), layout(), o);
    merged.append_part(dir.file("part1.nc"), 1);
    merged.append_part(dir.file("part0.nc"), 0);
    merged.commit();
  }
  const NcReader direct(dir.file("direct.nc"));
  const NcReader merged(dir.file("merged.nc"));
  for (const std::string var : {"thetao", "so", "zos", "truth_thetao", "truth_zos"}) {
    // (time, lead, depth, lat, lon) with the 2 saved depths; zos has no depth.
    const std::size_t n = var.find("zos") != std::string::npos ? 2 * 2 * kPlane : 2 * 2 * 2 * kPlane;
    const auto a = direct.values<float>(var, n);
    const auto b = merged.values<float>(var, n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << var << " element " << i;
    }
  }
  EXPECT_EQ(merged.values<int32_t>("time", 2), (std::vector<int32_t>{59, 60}));
  NetcdfResultsWriter short_one(dir.file("short.nc"), layout(), o);
  EXPECT_THROW(short_one.append_part(dir.file("merged.nc"), 1), InputError);  // 2 ICs from slot 1 of 2
}

}  // namespace
}  // namespace neuralom
