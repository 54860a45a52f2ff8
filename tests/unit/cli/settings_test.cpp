// Run settings: index specifications, precedence of flags over configuration files over defaults,
// YAML merge keys, and the reference experiment layout.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"

#include "neuralom/cli/config.h"
#include "neuralom/cli/options.h"
#include "neuralom/cli/settings.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("neuralom_settings_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

RunSettings parse(RunMode mode, std::vector<std::string> args) {
  args.insert(args.begin(), "simulate");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_run_command(mode, static_cast<int>(argv.size()), argv.data()).settings;
}

TEST(IndexSpec, RangesListsAndSteps) {
  EXPECT_EQ(parse_index_spec("0:4", "x"), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(parse_index_spec("0,5,10", "x"), (std::vector<int64_t>{0, 5, 10}));
  EXPECT_EQ(parse_index_spec("0:10:5", "x"), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(parse_index_spec("3, 7:9", "x"), (std::vector<int64_t>{3, 7, 8}));
  EXPECT_EQ(parse_index_spec("0:240", "x").size(), 240U);
}

TEST(IndexSpec, RejectsMalformedText) {
  for (const char* bad : {"", "3:x", "a", "5:2", "1:2:0", "-1", "1,,2"}) {
    EXPECT_THROW(parse_index_spec(bad, "--ics"), ConfigError) << bad;
  }
  try {
    parse_index_spec("3:x", "--ics");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--ics"), std::string::npos) << e.what();
  }
}

TEST(IndexSpec, HugeRangesAreRefusedNotAllocated) {
  // 2^63 - 1 indices would exhaust memory; a step past INT64_MAX must not overflow.
  EXPECT_THROW(parse_index_spec("0:9223372036854775807", "--ics"), ConfigError);
  EXPECT_THROW(parse_index_spec("0:1048577", "--ics"), ConfigError);
  EXPECT_EQ(parse_index_spec("0:1048576", "--ics").size(), static_cast<std::size_t>(kMaxIndices));
  EXPECT_THROW(parse_index_spec("0:1048576,5", "--ics"), ConfigError);
  EXPECT_EQ(parse_index_spec("5:100:9223372036854775807", "x"), (std::vector<int64_t>{5}));
  EXPECT_EQ(parse_index_spec("9223372036854775806:9223372036854775807", "x"),
            (std::vector<int64_t>{9223372036854775806}));
  EXPECT_EQ(parse_index_spec("1:10:4", "x"), (std::vector<int64_t>{1, 5, 9}));
  EXPECT_NE(testing::error_message<ConfigError>([] { parse_index_spec("0:9223372036854775807", "--ics"); })
                .find("--ics: '0:9223372036854775807' lists more than 1048576 indices"),
            std::string::npos);
}

TEST(RunCommand, BoundsValuesBeforeNarrowingThem) {
  // 2^32 + 1 wraps to 1 in an int: it must be refused as a compression level, not accepted as 1.
  EXPECT_THROW(parse(RunMode::kSimulate, {"--compression", "4294967297"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--threads", "4294967298"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--prefetch", "9223372036854775807"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kForecast, {"--atmos-substeps", "100000"}), ConfigError);
  EXPECT_EQ(parse(RunMode::kSimulate, {"--compression", "9", "--threads", "4096", "--prefetch", "1024"}).compression, 9);
}

TEST(RunCommand, PrecisionAndCudaGraphsFromFlagsOverTheConfigFile) {
  const fs::path dir = scratch_dir("precision");
  EXPECT_EQ(parse(RunMode::kSimulate, {}).precision, Precision::kFp32);
  EXPECT_FALSE(parse(RunMode::kSimulate, {}).cuda_graphs);
  write(dir / "run.yaml", "precision: bf16\ncuda_graphs: true\n");
  const std::string file = (dir / "run.yaml").string();
  const RunSettings from_file = parse(RunMode::kSimulate, {"--config-file", file});
  EXPECT_EQ(from_file.precision, Precision::kBf16);
  EXPECT_TRUE(from_file.cuda_graphs);
  EXPECT_EQ(parse(RunMode::kSimulate, {"--config-file", file, "--precision", "tf32"}).precision, Precision::kTf32);
  EXPECT_TRUE(parse(RunMode::kForecast, {"--cuda-graphs"}).cuda_graphs);
  EXPECT_FALSE(parse(RunMode::kSimulate, {}).deterministic);
  EXPECT_TRUE(parse(RunMode::kSimulate, {"--deterministic"}).deterministic);
  EXPECT_FALSE(parse(RunMode::kSimulate, {}).cuda_fused_kernels);
  EXPECT_TRUE(parse(RunMode::kSimulate, {}).fused_kernels);
  EXPECT_TRUE(parse(RunMode::kForecast, {"--cuda-fused-kernels"}).cuda_fused_kernels);
  EXPECT_FALSE(parse(RunMode::kSimulate, {"--no-fused-kernels"}).fused_kernels);
  write(dir / "fused.yaml", "cuda_fused_kernels: true\n");
  EXPECT_TRUE(parse(RunMode::kSimulate, {"--config-file", (dir / "fused.yaml").string()}).cuda_fused_kernels);
  write(dir / "bad.yaml", "precision: half\n");
  const std::string message = testing::error_message<ConfigError>(
      [&] { parse(RunMode::kSimulate, {"--config-file", (dir / "bad.yaml").string()}); });
  EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown precision 'half' (expected fp32, tf32 or bf16)"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(RunCommand, StaticCacheLevelFromFlagsOverTheConfigFile) {
  const fs::path dir = scratch_dir("static_cache");
  EXPECT_EQ(parse(RunMode::kSimulate, {}).static_cache, StaticCache::kAuto);
  write(dir / "run.yaml", "static_cache: off\n");  // YAML's boolean spelling, as before the light level
  const std::string file = (dir / "run.yaml").string();
  EXPECT_EQ(parse(RunMode::kSimulate, {"--config-file", file}).static_cache, StaticCache::kOff);
  EXPECT_EQ(parse(RunMode::kSimulate, {"--config-file", file, "--static-cache", "light"}).static_cache,
            StaticCache::kLight);
  EXPECT_EQ(parse(RunMode::kForecast, {"--static-cache", "on"}).static_cache, StaticCache::kFull);
  const std::string message =
      testing::error_message<ConfigError>([&] { parse(RunMode::kSimulate, {"--static-cache", "most"}); });
  EXPECT_NE(message.find("unknown static cache 'most' (expected auto, light, full or off)"), std::string::npos)
      << message;
  fs::remove_all(dir);
}

TEST(ConfigFile, RefusesKeysThatAreNotNames) {
  const fs::path dir = scratch_dir("complex_key");
  // A sequence as a mapping key used to escape as YAML::BadConversion (an "internal error").
  write(dir / "config.yaml", "? [a, b]\n: c\n");
  EXPECT_NE(testing::error_message<ConfigError>([&] { load_config_file((dir / "config.yaml").string()); })
                .find("a mapping key must be a plain name"),
            std::string::npos);
  write(dir / "section.yaml", "NeuralOM:\n  ? {x: 1}\n  : 2\n");
  EXPECT_THROW(load_config_file((dir / "section.yaml").string(), "NeuralOM"), ConfigError);
  EXPECT_THROW(load_config_file((dir / "section.yaml").string(), "Other"), ConfigError);
  fs::remove_all(dir);
}

TEST(ConfigFile, RefusesAliasBombsAndDeepNesting) {
  const fs::path dir = scratch_dir("bomb");
  // Ten levels of ten aliases each describe 10^10 values in a few hundred bytes.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    // Appended piece by piece: `"a" + std::to_string(i)` makes GCC 12 -std=c++20 warn falsely
    // (-Wrestrict, PR 105329).
    const std::string prev = std::string("*a").append(std::to_string(i - 1));
    const std::string name = std::string("a").append(std::to_string(i));
    bomb.append(name).append(": &").append(name).append(" [").append(prev);
    for (int k = 1; k < 10; ++k) bomb += ", " + prev;
    bomb += "]\n";
  }
  write(dir / "bomb.yaml", bomb);
  EXPECT_NE(testing::error_message<ConfigError>([&] { load_config_file((dir / "bomb.yaml").string()); })
                .find("expands to more than 10000 values"),
            std::string::npos);
  write(dir / "deep.yaml", "a: " + std::string(100, '[') + std::string(100, ']') + "\n");
  EXPECT_THROW(load_config_file((dir / "deep.yaml").string()), ConfigError);
  write(dir / "cycle.yaml", "a: &a [1, *a]\nb: &b {<<: *b}\n");  // an anchor used inside itself
  EXPECT_THROW(load_config_file((dir / "cycle.yaml").string()), ConfigError);
  fs::remove_all(dir);
}

TEST(ConfigFile, RefusesWhatIsNotARegularFile) {
  // /dev/zero never ends: reading it as YAML would exhaust memory.
  EXPECT_THROW(load_config_file("/dev/zero"), ConfigError);
  EXPECT_THROW(load_config_file(fs::temp_directory_path().string()), ConfigError);
}

TEST(ReferenceVariables, AreTheConfigsOutVariables) {
  const auto v = reference_out_variables();
  ASSERT_EQ(v.size(), 93U);
  EXPECT_EQ(v[0], "S0");
  EXPECT_EQ(v[22], "S643");
  EXPECT_EQ(v[23], "U0");
  EXPECT_EQ(v[46], "V0");
  EXPECT_EQ(v[69], "T0");
  EXPECT_EQ(v[91], "T643");
  EXPECT_EQ(v[92], "SSH");
}

// Counts the non-overlapping occurrences of `needle` in `text`.
size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

TEST(RunCommand, HelpListsEachGroupAndOptionOnce) {
  // --log-level sits in the table after the scale-out group but belongs to Execution: its group
  // was printed a second time, all its options with it.
  for (const RunMode mode : {RunMode::kSimulate, RunMode::kForecast}) {
    const std::vector<const char*> argv{"simulate", "--help"};
    const RunCommand command = parse_run_command(mode, static_cast<int>(argv.size()), argv.data());
    ASSERT_TRUE(command.help);
    const std::string& help = command.help_text;
    for (const char* group : {" Inputs options:", " Run options:", " Outputs options:", " Execution options:",
                              " Interruption and scale-out options:", " Configuration options:"}) {
      EXPECT_EQ(occurrences(help, group), 1U) << group << " in\n" << help;
    }
    for (const char* flag : {"--batch ", "--log-level ", "--resume ", "--shard ", "--dry-run ", "--help "}) {
      EXPECT_EQ(occurrences(help, flag), 1U) << flag << " in\n" << help;
    }
    EXPECT_EQ(occurrences(help, "--atmos "), mode == RunMode::kForecast ? 1U : 0U);
    EXPECT_LT(help.find(" Execution options:"), help.find("--log-level "));
    EXPECT_LT(help.find("--log-level "), help.find(" Interruption and scale-out options:"));
  }
}

TEST(RunCommand, DefaultsFollowTheReference) {
  const RunSettings s = parse(RunMode::kSimulate, {"--stages", "a.pt,b.pt", "--output", "out"});
  EXPECT_EQ(s.prediction_length, 61);
  EXPECT_EQ(s.ics.size(), 240U);
  EXPECT_EQ(s.ics.back(), 239);
  EXPECT_EQ(s.in_channels.size(), 97U);
  EXPECT_EQ(s.atmos_channels, (std::vector<int64_t>{93, 94, 95, 96}));
  EXPECT_EQ(s.land_mask_path, (fs::path("data") / "land_mask.h5").string());
  EXPECT_EQ(s.stages, (std::vector<std::string>{"a.pt", "b.pt"}));
  EXPECT_EQ(s.batch, 1);
  const RunSettings f = parse(RunMode::kForecast, {"--stages", "a.pt,b.pt", "--atmos", "m.pt"});
  EXPECT_EQ(f.ics.size(), 50U);
  EXPECT_EQ(f.global_means_path_atmos, (fs::path("data") / "mean_atmos.npy").string());
}

TEST(ConfigFile, RefusesReferenceKeysThatWouldChangeTheResults) {
  const fs::path dir = scratch_dir("reference_values");
  // The reference experiment's own values pass, as in its config.yaml.
  write(dir / "ok.yaml",
        "NeuralOM:\n  dt: 1\n  n_history: 0\n  normalization: 'zscore'\n  in_channels_atmos: [0, 1, 2]\n"
        "  out_channels_atmos: [0, 1, 2]\n  prediction_length: 5\n");
  EXPECT_EQ(parse(RunMode::kForecast, {"--config-file", (dir / "ok.yaml").string(), "--config", "NeuralOM",
                                       "--stages", "a.pt,b.pt", "--atmos", "m.pt"})
                .prediction_length,
            5);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"dt: 2\n", "dt: 2 is not supported"},
      {"n_history: 1\n", "n_history: 1 is not supported"},
      {"normalization: minmax\n", "normalization: minmax is not supported"},
      {"in_channels_atmos: [0, 2, 1]\n", "in_channels_atmos: [0,2,1] is not supported"},
      {"out_channels_atmos: [1, 2]\n", "out_channels_atmos: [1,2] is not supported"},
  };
  for (const auto& [text, expected] : cases) {
    write(dir / "bad.yaml", text);
    const std::string message = testing::error_message<ConfigError>(
        [&] { parse(RunMode::kForecast, {"--config-file", (dir / "bad.yaml").string(), "--stages", "a.pt,b.pt"}); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_NE(message.find("bad.yaml"), std::string::npos) << message;
  }
  // The reference experiment's config.yaml is checked the same way.
  const fs::path exp = dir / "exp" / "NeuralOM" / "run1";
  write(exp / "config.yaml", "NeuralOM:\n  dt: 3\n");
  const std::string message = testing::error_message<ConfigError>([&] {
    parse(RunMode::kSimulate, {"--exp-dir", (dir / "exp").string(), "--config", "NeuralOM", "--run-num", "run1"});
  });
  EXPECT_NE(message.find("dt: 3 is not supported"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(RunCommand, FlagsOverrideTheConfigFileWhichOverridesDefaults) {
  const fs::path dir = scratch_dir("precedence");
  write(dir / "run.yaml",
        "prediction_length: 11\n"
        "ics: [0, 5, 10]\n"
        "batch: 4\n"
        "stages: [models/s1.pt, models/s2.pt]\n"
        "land_mask_path: masks/land.h5\n");
  const RunSettings s =
      parse(RunMode::kSimulate, {"--config-file", (dir / "run.yaml").string(), "--batch", "2", "--output", "o"});
  EXPECT_EQ(s.prediction_length, 11);                       // from the file
  EXPECT_EQ(s.ics, (std::vector<int64_t>{0, 5, 10}));      // from the file
  EXPECT_EQ(s.batch, 2);                                   // the flag wins
  // Relative paths in a file are relative to the file.
  EXPECT_EQ(s.stages.front(), (dir / "models" / "s1.pt").string());
  EXPECT_EQ(s.land_mask_path, (dir / "masks" / "land.h5").string());
  // --data-dir re-roots data paths that were not given as flags.
  const RunSettings r = parse(RunMode::kSimulate, {"--config-file", (dir / "run.yaml").string(), "--data-dir", "/d"});
  EXPECT_EQ(r.land_mask_path, "/d/land_mask.h5");
  fs::remove_all(dir);
}

TEST(ConfigFile, ResolvesYamlMergeKeysAndSections) {
  const fs::path dir = scratch_dir("merge");
  write(dir / "config.yaml",
        "base: &BASE\n"
        "  prediction_length: 41\n"
        "  test_data_path: './data/test'\n"
        "  batch: 3\n"
        "NeuralOM: &NeuralOM\n"
        "  <<: *BASE\n"
        "  batch: 5\n"
        "  atmos_channels: [93, 94, 95, 96]\n"
        "  lr: 1e-3\n");
  const SettingsLayer layer = load_config_file((dir / "config.yaml").string(), "NeuralOM");
  ASSERT_TRUE(layer.has("prediction_length"));
  EXPECT_EQ(layer.find("prediction_length")->value, "41");  // merged from BASE
  EXPECT_EQ(layer.find("batch")->value, "5");               // own key wins over the merged one
  EXPECT_EQ(layer.find("atmos_channels")->value, "93,94,95,96");
  EXPECT_FALSE(layer.has("lr"));                            // a training key, ignored
  EXPECT_THROW(load_config_file((dir / "config.yaml").string(), "Nope"), ConfigError);
  EXPECT_THROW(load_config_file((dir / "missing.yaml").string()), ConfigError);
  write(dir / "broken.yaml", "a: [1, 2\n");
  EXPECT_THROW(load_config_file((dir / "broken.yaml").string()), ConfigError);
  fs::remove_all(dir);
}

TEST(ReferenceExperiment, FindsExportedModelsNextToCheckpoints) {
  const fs::path dir = scratch_dir("exp");
  write(dir / "exp" / "NeuralOM" / "20250309-195251" / "config.yaml",
        "full_field: &FULL_FIELD\n"
        "  prediction_length: 41\n"
        "  test_data_path: './data/test'\n"
        "  land_mask_path: './data/land_mask.h5'\n"
        "NeuralOM:\n"
        "  <<: *FULL_FIELD\n"
        "  atmos_channels: [93, 94, 95, 96]\n");
  ReferenceExperiment exp;
  exp.exp_dir = (dir / "exp").string();
  exp.run_num = "20250309-195251";
  exp.finetune_dir = "6_steps_finetune";
  const SettingsLayer layer = load_reference_experiment(exp);
  const fs::path run = dir / "exp" / "NeuralOM" / "20250309-195251" / "6_steps_finetune";
  EXPECT_EQ(layer.find("stages")->value,
            (run / "training_checkpoints" / "best_ckpt.pt").string() + "," +
                (run / "model2" / "10_steps_finetune" / "training_checkpoints" / "best_ckpt.pt").string());
  EXPECT_EQ(layer.find("output_dir")->value, run.string());
  EXPECT_EQ(layer.find("test_data_path")->value, "./data/test");
  EXPECT_FALSE(layer.has("prediction_length"));  // the reference's scripts override it with 61
  fs::remove_all(dir);
}

TEST(RunCommand, RejectsBadValues) {
  EXPECT_THROW(parse(RunMode::kSimulate, {"--batch", "0"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--prediction-length", "1"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--on-nonfinite", "maybe"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--compression", "12"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--unknown"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--atmos", "x.pt"}), ConfigError);  // forecast-only flag
  EXPECT_THROW(parse(RunMode::kSimulate, {"--finetune-dir", "x"}), ConfigError);
}

TEST(RunCommand, CfOutputsAndCoordinates) {
  const RunSettings plain = parse(RunMode::kSimulate, {});
  EXPECT_EQ(plain.format, OutputFormat::kHdf5);
  EXPECT_FALSE(plain.save_fields);
  EXPECT_FALSE(plain.latitude.start.has_value());
  const RunSettings s = parse(RunMode::kSimulate, {"--format", "netcdf", "--anomalies", "--save-truth",
                                                   "--latitude-start", "90", "--latitude-step", "-0.5",
                                                   "--longitude-start", "0", "--depths", "1.5, 2.5"});
  EXPECT_EQ(s.format, OutputFormat::kNetcdf);
  EXPECT_TRUE(s.save_fields);  // naming a CF format asks for the fields
  EXPECT_TRUE(s.anomalies);
  EXPECT_TRUE(s.save_truth);
  EXPECT_DOUBLE_EQ(*s.latitude.start, 90.0);
  EXPECT_DOUBLE_EQ(*s.latitude.step, -0.5);
  EXPECT_DOUBLE_EQ(*s.longitude.start, 0.0);
  EXPECT_FALSE(s.longitude.step.has_value());
  EXPECT_EQ(s.depths, (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(parse(RunMode::kSimulate, {"--format", "zarr"}).format, OutputFormat::kZarr);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--format", "grib"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--latitude-start", "north"}), ConfigError);
  EXPECT_THROW(parse(RunMode::kSimulate, {"--depths", "1,x"}), ConfigError);
}

TEST(RunCommand, CfFormatsNeedIncreasingInitialConditions) {
  // The ICs are the CF time coordinate: unsorted or repeated ones are refused for netcdf/zarr,
  // and stay as given for the reference's HDF5 layout.
  for (const char* format : {"netcdf", "zarr"}) {
    for (const char* ics : {"10,0", "0,5,5"}) {
      const std::string message = testing::error_message<ConfigError>(
          [&] { parse(RunMode::kSimulate, {"--stages", "a.pt,b.pt", "--format", format, "--ics", ics}); });
      EXPECT_NE(message.find("must increase strictly"), std::string::npos) << message;
      EXPECT_NE(message.find(std::string("--format ") + format), std::string::npos) << message;
    }
    EXPECT_EQ(parse(RunMode::kSimulate, {"--stages", "a.pt,b.pt", "--format", format, "--ics", "0,3,10"}).ics,
              (std::vector<int64_t>{0, 3, 10}));
  }
  EXPECT_EQ(parse(RunMode::kSimulate, {"--stages", "a.pt,b.pt", "--ics", "10,0"}).ics, (std::vector<int64_t>{10, 0}));
}

TEST(RunCommand, ExtremeEventSettings) {
  const RunSettings off = parse(RunMode::kSimulate, {});
  EXPECT_FALSE(off.extremes);
  const RunSettings on = parse(RunMode::kSimulate, {"--extremes"});
  EXPECT_TRUE(on.extremes);
  ASSERT_EQ(on.extreme_variables.size(), 3U);
  EXPECT_EQ(on.extreme_variables[0].name, "U0");
  EXPECT_EQ(on.extreme_variables[0].tails, ExtremeTails::kBoth);
  EXPECT_EQ(on.extreme_variables[2].name, "T0");
  EXPECT_EQ(on.extreme_variables[2].tails, ExtremeTails::kUpper);
  EXPECT_EQ(on.extreme_quantiles, (std::vector<double>{0.90, 0.95, 0.99}));
  // Any extreme setting turns them on.
  const RunSettings custom = parse(RunMode::kSimulate, {"--extreme-variables", "SSH:upper,S0", "--extreme-quantiles", "0.8"});
  EXPECT_TRUE(custom.extremes);
  ASSERT_EQ(custom.extreme_variables.size(), 2U);
  EXPECT_EQ(custom.extreme_variables[0].tails, ExtremeTails::kUpper);
  EXPECT_EQ(custom.extreme_variables[1].tails, ExtremeTails::kBoth);
  EXPECT_EQ(custom.extreme_quantiles, (std::vector<double>{0.8}));
  for (const char* q : {"0.5", "1", "0.2", "x"}) {
    EXPECT_THROW(parse(RunMode::kSimulate, {"--extreme-quantiles", q}), ConfigError) << q;
  }
  EXPECT_THROW(parse(RunMode::kSimulate, {"--extreme-variables", "U0:lower"}), ConfigError);
}

}  // namespace
}  // namespace neuralom
