// ResultsWriter: frames land in [N_ic, N_lead, N_channel, H, W]; subsets; commit and clean-up.
#include "neuralom/verify/results_writer.h"

#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"
#include "temp_dir.h"

#include "neuralom/core/errors.h"
#include "neuralom/io/hdf5_file.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

using testing::error_message;
using testing::TempDir;

constexpr int64_t kChannels = 3;
constexpr int64_t kHeight = 4;
constexpr int64_t kWidth = 5;
constexpr int64_t kFrame = kChannels * kHeight * kWidth;

/// Two initial conditions (days 3 and 7), leads 0..2, all three channels, a 4 x 5 grid.
ResultsLayout full_layout() {
  ResultsLayout layout;
  layout.ics = {3, 7};
  layout.leads = {0, 1, 2};
  layout.channels = {0, 1, 2};
  layout.channel_names = {"so", "thetao", "zos"};
  layout.ocean_channels = kChannels;
  layout.height = kHeight;
  layout.width = kWidth;
  return layout;
}

/// A distinct, exactly representable value for every element of every frame.
float value(bool predicted, int64_t ic_slot, int64_t lead, int64_t channel, int64_t pixel) {
  return static_cast<float>((predicted ? 10000 : 0) + ic_slot * 1000 + lead * 100 + channel * 20 + pixel);
}

/// All channels of one frame, `[kChannels, kHeight, kWidth]`.
std::vector<float> frame(bool predicted, int64_t ic_slot, int64_t lead) {
  std::vector<float> v(static_cast<std::size_t>(kFrame));
  for (int64_t c = 0; c < kChannels; ++c) {
    for (int64_t p = 0; p < kHeight * kWidth; ++p) {
      v[static_cast<std::size_t>(c * kHeight * kWidth + p)] = value(predicted, ic_slot, lead, c, p);
    }
  }
  return v;
}

void write_frame(ResultsWriter& writer, int64_t ic_slot, int64_t lead) {
  const std::vector<float> truth = frame(false, ic_slot, lead);
  const std::vector<float> pred = frame(true, ic_slot, lead);
  writer.write(ic_slot, lead, truth.data(), pred.data());
}

void write_all_frames(ResultsWriter& writer, int64_t n_ic, int64_t max_lead) {
  for (int64_t ic = 0; ic < n_ic; ++ic) {
    for (int64_t lead = 0; lead <= max_lead; ++lead) write_frame(writer, ic, lead);
  }
}

/// Checks every element of both datasets against value(), for the saved leads and channels.
void expect_contents(const std::string& path, const ResultsLayout& layout) {
  const H5File file = H5File::open_read(path);
  EXPECT_EQ(file.dataset_names(), (std::vector<std::string>{"ground_truth", "predicted"}));
  const auto n_ic = static_cast<int64_t>(layout.ics.size());
  const auto n_lead = static_cast<int64_t>(layout.leads.size());
  const auto n_channel = static_cast<int64_t>(layout.channels.size());
  const std::vector<int64_t> shape{n_ic, n_lead, n_channel, kHeight, kWidth};
  for (const bool predicted : {false, true}) {
    const std::string name = predicted ? "predicted" : "ground_truth";
    const H5DatasetInfo info = file.dataset_info(name);
    ASSERT_EQ(info.shape, shape) << name;
    ASSERT_EQ(info.dtype, DType::kFloat32) << name;
    std::vector<float> all(static_cast<std::size_t>(n_ic * n_lead * n_channel * kHeight * kWidth));
    file.read(name, {0, 0, 0, 0, 0}, shape, all.data());
    std::size_t k = 0;
    int mismatches = 0;
    for (int64_t ic = 0; ic < n_ic; ++ic) {
      for (const int64_t lead : layout.leads) {
        for (const int64_t channel : layout.channels) {
          for (int64_t p = 0; p < kHeight * kWidth; ++p) {
            if (all[k++] != value(predicted, ic, lead, channel, p)) ++mismatches;
          }
        }
      }
    }
    EXPECT_EQ(mismatches, 0) << name;
  }
}

std::vector<int64_t> int64_attribute(const std::string& path, const std::string& object, const std::string& key) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t attribute = H5Aopen_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Aget_space(attribute);
  std::vector<int64_t> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  H5Aread(attribute, H5T_NATIVE_INT64, values.data());
  H5Sclose(space);
  H5Aclose(attribute);
  H5Fclose(file);
  return values;
}

std::vector<std::string> string_attribute(const std::string& path, const std::string& object,
                                          const std::string& key) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t attribute = H5Aopen_by_name(file, object.c_str(), key.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  const hid_t space = H5Aget_space(attribute);
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);  // HDF5 does not convert between character sets
  std::vector<char*> pointers(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (H5Aread(attribute, type, pointers.data()) < 0) ADD_FAILURE() << "cannot read " << object << "/" << key;
  std::vector<std::string> values;
  for (const char* p : pointers) values.emplace_back(p != nullptr ? p : "<null>");
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, pointers.data());
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, pointers.data());
#endif
  H5Tclose(type);
  H5Sclose(space);
  H5Aclose(attribute);
  H5Fclose(file);
  return values;
}

TEST(ResultsWriterTest, WritesEveryFrameAndCommits) {
  const TempDir dir;
  const std::string path = dir.file("results_simulation.h5");
  const ResultsLayout layout = full_layout();
  {
    ResultsWriter writer(path, layout, {{"mode", "simulation"}, {"ocean_file", "data/test/2020.h5"}});
    // Frames arrive in rollout order: all ICs of a batch per lead.
    for (int64_t lead = 0; lead <= 2; ++lead) {
      for (int64_t ic = 0; ic < 2; ++ic) write_frame(writer, ic, lead);
    }
    EXPECT_FALSE(fs::exists(path)) << "visible before commit";
    EXPECT_TRUE(fs::exists(path + ".partial"));
    writer.commit();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
  expect_contents(path, layout);

  EXPECT_EQ(int64_attribute(path, "predicted", "ics"), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(int64_attribute(path, "predicted", "leads"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(int64_attribute(path, "ground_truth", "channels"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(string_attribute(path, "ground_truth", "variables"), (std::vector<std::string>{"so", "thetao", "zos"}));
  EXPECT_EQ(string_attribute(path, "predicted", "dimensions"),
            (std::vector<std::string>{"ic", "lead", "channel", "row", "column"}));
  EXPECT_EQ(string_attribute(path, "/", "mode"), std::vector<std::string>{"simulation"});
  EXPECT_EQ(string_attribute(path, "/", "ocean_file"), std::vector<std::string>{"data/test/2020.h5"});
  EXPECT_EQ(string_attribute(path, "/", "channel_names"), (std::vector<std::string>{"so", "thetao", "zos"}));
}

TEST(ResultsWriterTest, SavesSubsetsOfChannelsAndLeads) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  ResultsLayout layout = full_layout();
  layout.channels = {0, 2};
  layout.leads = {0, 2, 4};
  {
    ResultsWriter writer(path, layout);
    EXPECT_TRUE(writer.saves_lead(0));
    EXPECT_FALSE(writer.saves_lead(1));
    EXPECT_TRUE(writer.saves_lead(4));
    EXPECT_FALSE(writer.saves_lead(5));
    EXPECT_FALSE(writer.saves_lead(-1));
    // The rollout offers every lead; the writer keeps the saved ones.
    write_all_frames(writer, 2, 5);
    writer.commit();
  }
  expect_contents(path, layout);
  EXPECT_EQ(int64_attribute(path, "predicted", "channels"), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(string_attribute(path, "predicted", "variables"), (std::vector<std::string>{"so", "zos"}));
  EXPECT_EQ(int64_attribute(path, "predicted", "leads"), (std::vector<int64_t>{0, 2, 4}));
}

TEST(ResultsWriterTest, CompressedOutputHoldsTheSameValues) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  ResultsLayout layout = full_layout();
  layout.gzip_level = 4;
  {
    ResultsWriter writer(path, layout);
    write_all_frames(writer, 2, 2);
    writer.commit();
  }
  expect_contents(path, layout);
}

TEST(ResultsWriterTest, CommitNamesTheFirstMissingFrame) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsWriter writer(path, full_layout());
    for (int64_t lead = 0; lead <= 2; ++lead) write_frame(writer, 0, lead);
    write_frame(writer, 1, 0);
    write_frame(writer, 1, 2);  // IC 7 (slot 1), lead 1 is missing
    EXPECT_EQ(error_message<OutputError>([&] { writer.commit(); }),
              path + ": incomplete results: initial condition 7 (slot 1), lead 1 was never written "
                     "(1 of 6 frames missing)");
    EXPECT_FALSE(fs::exists(path));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(ResultsWriterTest, DestructorRemovesTheUncommittedFile) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsWriter writer(path, full_layout());
    write_frame(writer, 0, 0);
    EXPECT_TRUE(fs::exists(path + ".partial"));
  }
  EXPECT_FALSE(fs::exists(path + ".partial"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(ResultsWriterTest, CommitReplacesAnEarlierResultsFile) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  ResultsLayout small = full_layout();
  small.ics = {3};
  {
    ResultsWriter writer(path, small);
    write_all_frames(writer, 1, 2);
    writer.commit();
  }
  const ResultsLayout layout = full_layout();
  {
    ResultsWriter writer(path, layout);
    write_all_frames(writer, 2, 2);
    // Until commit, readers see the earlier file.
    EXPECT_EQ(H5File::open_read(path).dataset_info("predicted").shape[0], 1);
    writer.commit();
  }
  expect_contents(path, layout);
}

TEST(ResultsWriterTest, MisuseIsAnOutputError) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  ResultsWriter writer(path, full_layout());
  const std::vector<float> data(static_cast<std::size_t>(kFrame), 0.0f);
  EXPECT_EQ(error_message<OutputError>([&] { writer.write(2, 0, data.data(), data.data()); }),
            path + ": initial-condition slot 2 is out of range (the file holds 2)");
  EXPECT_THROW(writer.write(-1, 0, data.data(), data.data()), OutputError);
  write_all_frames(writer, 2, 2);
  writer.commit();
  EXPECT_THROW(writer.write(0, 0, data.data(), data.data()), OutputError);
  EXPECT_THROW(writer.commit(), OutputError);
}

TEST(ResultsWriterTest, RejectsInconsistentLayoutsBeforeCreatingAFile) {
  const TempDir dir;
  const std::string path = dir.file("results.h5");
  auto message = [&](void (*edit)(ResultsLayout&)) {
    ResultsLayout layout = full_layout();
    edit(layout);
    return error_message<ConfigError>([&] { ResultsWriter writer(path, layout); });
  };
  EXPECT_NE(message([](ResultsLayout& l) { l.ics.clear(); }).find("no initial conditions"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.leads.clear(); }).find("no lead days"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.channels.clear(); }).find("no channels"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.leads = {2, 1}; }).find("ascending"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.leads = {1, 1}; }).find("without repeats"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.leads = {-1, 1}; }).find(">= 0"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.channels = {2, 0}; }).find("channels must be ascending"),
            std::string::npos);
  EXPECT_EQ(message([](ResultsLayout& l) { l.channels = {0, 3}; }),
            path + ": invalid results layout: channel 3 is out of range (the model has 3 ocean channels)");
  EXPECT_NE(message([](ResultsLayout& l) { l.channel_names.pop_back(); }).find("2 channel names for 3"),
            std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.height = 0; }).find("empty frame"), std::string::npos);
  EXPECT_NE(message([](ResultsLayout& l) { l.gzip_level = 12; }).find("gzip level 12"), std::string::npos);
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(ResultsWriterTest, MissingDirectoryIsAnOutputError) {
  const TempDir dir;
  EXPECT_THROW(ResultsWriter(dir.file("missing/results.h5"), full_layout()), OutputError);
}

TEST(ResultsWriterTest, AppendedPartsFillTheFile) {
  // Two parts of one IC each (compressed, as a run with --compression writes them), copied into the
  // whole run's file in any order: the same values as a file written frame by frame.
  const TempDir dir;
  ResultsLayout layout = full_layout();
  layout.gzip_level = 4;
  for (int64_t ic = 0; ic < 2; ++ic) {
    ResultsLayout part_layout = layout;
    part_layout.ics = {layout.ics[static_cast<std::size_t>(ic)]};
    ResultsWriter part(dir.file("part" + std::to_string(ic) + ".h5"), part_layout);
    for (int64_t lead = 0; lead <= 2; ++lead) {
      const std::vector<float> truth = frame(false, ic, lead);
      const std::vector<float> pred = frame(true, ic, lead);
      part.write(0, lead, truth.data(), pred.data());
    }
    part.commit();
  }
  {
    ResultsWriter incomplete(dir.file("incomplete.h5"), layout);
    incomplete.append_part(dir.file("part1.h5"), 1);
    EXPECT_THROW(incomplete.commit(), OutputError);  // slot 0 is missing
  }
  {
    ResultsWriter whole(dir.file("whole.h5"), layout);
    whole.append_part(dir.file("part1.h5"), 1);
    whole.append_part(dir.file("part0.h5"), 0);
    whole.commit();
  }
  expect_contents(dir.file("whole.h5"), layout);
  // A part that does not fit: two ICs from slot 1 of a two-IC file.
  ResultsWriter other(dir.file("other.h5"), layout);
  EXPECT_THROW(other.append_part(dir.file("whole.h5"), 1), InputError);
  EXPECT_THROW(other.append_part(dir.file("missing.h5"), 0), InputError);
}

}  // namespace
}  // namespace neuralom
