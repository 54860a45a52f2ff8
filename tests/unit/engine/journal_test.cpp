// The journal's files: header, batch records, parts, what counts as finished, and the refusal to
// resume a run whose settings or inputs changed.
#include "neuralom/engine/journal.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"
#include "neuralom/engine/run_settings_json.h"
#include "temp_dir.h"

namespace neuralom {
namespace {

using testing::TempDir;
using Json = nlohmann::ordered_json;

Json header_with(const RunSettings& s) {
  Json h = Json::object();
  h["format"] = "neuralom-journal-1";
  h["neuralom_version"] = "test";
  h["settings"] = result_settings_json(s);
  h["shard"] = s.shard.str();
  h["batches"] = 3;
  h["inputs"] = Json::array({Json{{"role", "ocean data"},
                                  {"path", "/data/2020.h5"},
                                  {"size", 100},
                                  {"modified", 5},
                                  {"sha256", nullptr}}});
  h["extreme_thresholds"] = nullptr;
  return h;
}

BatchRecord record(int64_t batch, const std::string& part) {
  BatchRecord r;
  r.batch = batch;
  r.slots = {batch, batch + 1};
  r.part = part;
  IcScores ic;
  ic.slot = batch;
  ic.ic = batch;
  r.ics.push_back(ic);
  return r;
}

TEST(JournalTest, RecordsBatchesAndFindsThemAgain) {
  const TempDir dir;
  const std::string out = dir.path().string();
  EXPECT_FALSE(Journal::exists_in(out));
  RunSettings s;
  const Journal journal = Journal::create(out, header_with(s));
  EXPECT_TRUE(Journal::exists_in(out));
  EXPECT_EQ(journal.directory(), (dir.path() / "journal").string());
  EXPECT_TRUE(journal.finished_batches().empty());

  const std::string part = journal.part_path(0, ".h5");
  EXPECT_EQ(part, (dir.path() / "journal" / "parts" / "batch-000000.h5").string());
  dir.write("journal/parts/batch-000000.h5", "fields");
  journal.write_batch(record(0, part));
  journal.write_batch(record(2, ""));
  dir.write("journal/batch-000001.cbor.partial", "an interrupted write");  // not finished
  dir.write("journal/batch-00001.cbor", "");                               // not a record's name
  dir.write("journal/batch-00000x.cbor", "");
  EXPECT_EQ(journal.finished_batches(), (std::vector<int64_t>{0, 2}));
  // A run of a million batches or more has seven-digit names.
  journal.write_batch(record(1234567, ""));
  EXPECT_EQ(journal.finished_batches(), (std::vector<int64_t>{0, 2, 1234567}));
  EXPECT_EQ(journal.read_batch(1234567).batch, 1234567);
  std::filesystem::remove(dir.path() / "journal" / "batch-1234567.cbor");

  const Journal again = Journal::open(out);
  EXPECT_EQ(again.header()["batches"], 3);
  const BatchRecord r = again.read_batch(0);
  EXPECT_EQ(r.part, part);  // stored relative, read back absolute
  EXPECT_EQ(again.read_finished({0, 3}).size(), 2U);
  EXPECT_EQ(again.read_finished({1, 3}).size(), 1U);

  // A damaged record, or a record whose part is gone, counts as unfinished.
  dir.write("journal/batch-000002.cbor", "garbage");
  std::filesystem::remove(part);
  EXPECT_TRUE(again.read_finished({0, 3}).empty());

  again.remove();
  EXPECT_FALSE(Journal::exists_in(out));
}

TEST(JournalTest, OpeningWithoutAJournalSaysWhere) {
  const TempDir dir;
  try {
    Journal::open(dir.path().string());
    FAIL() << "opened a missing journal";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("journal.json"), std::string::npos);
  }
  std::filesystem::create_directories(dir.path() / "journal");
  dir.write("journal/journal.json", "{\"format\": \"something else\"}");
  EXPECT_THROW(Journal::open(dir.path().string()), InputError);
}

TEST(JournalTest, APartThatNoLongerHasItsWrittenSizeCountsAsUnfinished) {
  const TempDir dir;
  const std::string out = dir.path().string();
  const Journal journal = Journal::create(out, header_with(RunSettings{}));
  const std::string part = journal.part_path(0, ".h5");
  dir.write("journal/parts/batch-000000.h5", "twelve bytes");
  journal.write_batch(record(0, part));  // records the part's 12 bytes
  EXPECT_EQ(journal.read_batch(0).part_bytes, 12);
  EXPECT_EQ(journal.read_finished({0, 3}).size(), 1U);
  // What a crash before the data reached the disk leaves: the name, and nothing behind it.
  dir.write("journal/parts/batch-000000.h5", "");
  EXPECT_TRUE(journal.read_finished({0, 3}).empty());
}

/// Message of the InputError that opening `header` as a journal throws.
std::string open_error(const TempDir& dir, const Json& header) {
  std::filesystem::create_directories(dir.path() / "journal");
  dir.write("journal/journal.json", header.dump());
  try {
    Journal::open(dir.path().string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(opened)";
}

TEST(JournalTest, AMalformedHeaderIsAnInputErrorNamingTheEntry) {
  const TempDir dir;
  const Json good = header_with(RunSettings{});
  EXPECT_EQ(open_error(dir, good), "(opened)");
  Json h = good;
  h["inputs"][0]["size"] = "big";
  EXPECT_NE(open_error(dir, h).find("inputs[0].'size' is not an integer or null"), std::string::npos)
      << open_error(dir, h);
  h = good;
  h["batches"] = -1;
  EXPECT_NE(open_error(dir, h).find("'batches' is not a count"), std::string::npos) << open_error(dir, h);
  h = good;
  h.erase("settings");
  EXPECT_NE(open_error(dir, h).find("'settings' is not an object"), std::string::npos) << open_error(dir, h);
  h = good;
  h["inputs"] = Json::array({42});
  EXPECT_NE(open_error(dir, h).find("inputs[0] is not an object"), std::string::npos) << open_error(dir, h);
  h = good;
  h["extreme_thresholds"] = Json{{"source", "file"}, {"values", Json::array({Json::array({Json::array({1.0})})})}};
  EXPECT_NE(open_error(dir, h).find("not a [lower or null, upper] pair"), std::string::npos) << open_error(dir, h);
  // The header check runs on resume too, on whatever header it is given.
  RunPlan plan;
  plan.settings.hash_data = false;
  const RunProvenance provenance(plan);
  h = good;
  h["inputs"][0].erase("sha256");
  EXPECT_THROW(check_resumable(h, good, provenance, dir.path().string()), InputError);
}

TEST(JournalTest, ResumingRefusesThresholdsFromAFileThatChanged) {
  RunPlan plan;
  plan.settings.hash_data = false;
  const RunProvenance provenance(plan);
  RunSettings s;
  s.extremes = true;
  s.extreme_thresholds = "/t/thresholds.csv";
  ExtremesSpec spec;
  spec.threshold_source = "threshold file /t/thresholds.csv";
  spec.thresholds = {{ExtremeThreshold{-0.5, 0.4}}};
  Json then = header_with(s);
  record_thresholds(then, spec);
  Json now = then;
  EXPECT_NO_THROW(check_resumable(then, now, provenance, "out"));
  spec.thresholds[0][0].upper = 0.41;
  record_thresholds(now, spec);
  try {
    check_resumable(then, now, provenance, "out");
    FAIL() << "changed thresholds were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("extreme thresholds read from"), std::string::npos) << e.what();
  }
}

TEST(JournalTest, ThresholdsFromTheSameFileTypedAnotherWayAreTheSame) {
  // The source names the file as it was typed; the file itself is compared as an input.
  RunPlan plan;
  plan.settings.hash_data = false;
  const RunProvenance provenance(plan);
  RunSettings s;
  s.extremes = true;
  ExtremesSpec spec;
  spec.thresholds = {{ExtremeThreshold{-0.5, 0.4}}};
  spec.threshold_source = "threshold file thresholds.csv";
  Json then = header_with(s);
  record_thresholds(then, spec);
  Json now = header_with(s);
  spec.threshold_source = "threshold file /t/../t/thresholds.csv";
  record_thresholds(now, spec);
  EXPECT_NO_THROW(check_resumable(then, now, provenance, "out"));
}

TEST(JournalTest, JournaledThresholdsMustFitTheScoredVariablesAndQuantiles) {
  ExtremesSpec spec;
  spec.variables = {ExtremeVariable{"U0", ExtremeTails::kBoth}, ExtremeVariable{"T0", ExtremeTails::kUpper}};
  spec.quantiles = {0.9, 0.95};
  Json h = header_with(RunSettings{});
  std::string source;
  EXPECT_FALSE(journaled_thresholds(h, spec, "out/journal/journal.json", source).has_value());
  h["extreme_thresholds"] = Json{{"source", "the truth"},
                                 {"values", Json::array({Json::array({Json::array({-1.0, 1.0}), Json::array({-2.0, 2.0})}),
                                                         Json::array({Json::array({nullptr, 3.0}),
                                                                      Json::array({nullptr, 4.0})})})}};
  const auto kept = journaled_thresholds(h, spec, "out/journal/journal.json", source);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(source, "the truth");
  ASSERT_EQ(kept->size(), 2U);
  EXPECT_DOUBLE_EQ((*kept)[0][1].lower, -2.0);
  EXPECT_DOUBLE_EQ((*kept)[1][1].upper, 4.0);
  EXPECT_TRUE(std::isnan((*kept)[1][0].lower));
  const auto refused = [&](Json damaged, const std::string& expected) {
    try {
      journaled_thresholds(damaged, spec, "out/journal/journal.json", source);
      ADD_FAILURE() << "accepted: " << damaged["extreme_thresholds"].dump();
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("out/journal/journal.json: extreme_thresholds.values " + expected), std::string::npos) << m;
    }
  };
  Json one_row = h;
  one_row["extreme_thresholds"]["values"].erase(1);
  refused(one_row, "has 1 rows, but 2 variables are scored");
  Json short_row = h;
  short_row["extreme_thresholds"]["values"][1].erase(0);
  refused(short_row, "has 1 pairs for T0, but 2 quantiles are scored");
  Json no_lower = h;
  no_lower["extreme_thresholds"]["values"][0][0][0] = nullptr;
  refused(no_lower, "has no lower threshold for U0 (both tails)");
}

TEST(JournalTest, AFileGivenByARelativePathIsComparedByItsDigest) {
  // The plan has the path as typed (relative), the journal has it absolute: an identical copy put
  // back (a new modification time) is the same file.
  const TempDir dir;
  dir.write("mask.npy", "the mask's bytes");
  const std::filesystem::path absolute = dir.path() / "mask.npy";
  RunPlan plan;
  plan.settings.land_mask_path = std::filesystem::relative(absolute).string();
  ASSERT_FALSE(std::filesystem::path(plan.settings.land_mask_path).is_absolute());
  const RunProvenance provenance(plan);
  const std::string digest = provenance.digest(plan.settings.land_mask_path);
  ASSERT_EQ(digest.size(), 64U);
  EXPECT_EQ(provenance.digest(absolute.string()), digest);
  Json then = header_with(RunSettings{});
  then["inputs"] = Json::array(
      {Json{{"role", "land mask"}, {"path", absolute.string()}, {"size", 16}, {"modified", 5}, {"sha256", digest}}});
  Json now = then;
  now["inputs"][0]["modified"] = 6;
  EXPECT_NO_THROW(check_resumable(then, now, provenance, "out"));
  then["inputs"][0]["sha256"] = std::string(64, '0');  // the run began with other contents
  EXPECT_THROW(check_resumable(then, now, provenance, "out"), InputError);
}

TEST(JournalTest, ResumingRefusesAChangedSettingAndNamesIt) {
  RunPlan plan;
  plan.settings.hash_data = false;
  const RunProvenance provenance(plan);
  RunSettings s;
  s.ics = {0, 1, 2};
  const Json then = header_with(s);
  EXPECT_NO_THROW(check_resumable(then, header_with(s), provenance, "out"));

  RunSettings longer = s;
  longer.prediction_length = 31;
  try {
    check_resumable(then, header_with(longer), provenance, "out");
    FAIL() << "a changed prediction length was accepted";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'prediction_length'"), std::string::npos) << m;
    EXPECT_NE(m.find("61 then, 31 now"), std::string::npos) << m;
    EXPECT_NE(m.find("--overwrite"), std::string::npos) << m;
  }
  RunSettings other_shard = s;
  other_shard.shard = ShardSpec{1, 2};
  EXPECT_THROW(check_resumable(header_with(other_shard), header_with(s), provenance, "out"), ConfigError);
  // The device, threads and output directory may change.
  RunSettings moved = s;
  moved.device = "cuda:1";
  moved.threads = 7;
  moved.output_dir = "elsewhere";
  EXPECT_NO_THROW(check_resumable(then, header_with(moved), provenance, "out"));
}

TEST(JournalTest, ResumingRefusesChangedData) {
  RunPlan plan;
  plan.settings.hash_data = false;
  const RunProvenance provenance(plan);
  const Json then = header_with(RunSettings{});
  Json now = then;
  now["inputs"][0]["modified"] = 6;
  try {
    check_resumable(then, now, provenance, "out");
    FAIL() << "changed data was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ocean data /data/2020.h5 changed"), std::string::npos) << e.what();
  }
}

TEST(RunSettingsJsonTest, RoundTripsTheRecordedSettings) {
  RunSettings s;
  s.mode = RunMode::kForecast;
  s.stages = {"a.pt", "b.pt"};
  s.atmos_model = "atmos.pt";
  s.ics = {3, 4, 9};
  s.prediction_length = 5;
  s.format = OutputFormat::kNetcdf;
  s.latitude = AxisSpec{90.0, -0.5};
  s.depths = {0.494, 1.5};
  s.extremes = true;
  s.extreme_variables = {{"U0", ExtremeTails::kBoth}, {"T0", ExtremeTails::kUpper}};
  s.extreme_quantiles = {0.9, 0.99};
  s.batch = 2;
  const Json j = result_settings_json(s);
  const RunSettings back = settings_from_json(j, "test");
  EXPECT_EQ(result_settings_json(back), j);
  EXPECT_EQ(back.mode, RunMode::kForecast);
  EXPECT_TRUE(std::filesystem::path(back.stages[0]).is_absolute());
  EXPECT_EQ(*back.latitude.start, 90.0);
  EXPECT_FALSE(back.longitude.start.has_value());
  EXPECT_EQ(back.extreme_variables[1].tails, ExtremeTails::kUpper);
  EXPECT_EQ(first_difference(j, j), "");
  Json broken = j;
  broken.erase("batch");
  EXPECT_EQ(first_difference(j, broken), "batch");
  try {
    settings_from_json(broken, "journal.json");
    FAIL() << "a missing key was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'batch'"), std::string::npos);
  }
}

}  // namespace
}  // namespace neuralom
