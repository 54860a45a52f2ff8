#include "neuralom/model/static_cache.h"

#include <gtest/gtest.h>

#include "error_message.h"
#include "neuralom/core/errors.h"
#include "neuralom/engine/run_settings_json.h"

namespace neuralom {
namespace {

TEST(StaticCacheTest, ParsesTheFourLevelsAndPrintsThemBack) {
  for (const char* name : {"auto", "light", "full", "off"}) {
    EXPECT_STREQ(static_cache_name(parse_static_cache(name, "--static-cache")), name);
  }
  EXPECT_EQ(parse_static_cache("Light", "x"), StaticCache::kLight);
}

TEST(StaticCacheTest, TheBooleansOfTheOldOnOffSettingKeepTheirMeaning) {
  for (const char* on : {"on", "true", "yes", "1", "ON", "True"}) {
    EXPECT_EQ(parse_static_cache(on, "x"), StaticCache::kFull) << on;
  }
  for (const char* off : {"off", "false", "no", "0", "OFF"}) {
    EXPECT_EQ(parse_static_cache(off, "x"), StaticCache::kOff) << off;
  }
}

TEST(StaticCacheTest, RefusesOtherWordsNamingTheOrigin) {
  const std::string message =
      testing::error_message<ConfigError>([] { parse_static_cache("half", "run.yaml: static_cache"); });
  EXPECT_EQ(message, "run.yaml: static_cache: unknown static cache 'half' (expected auto, light, full or off)");
  EXPECT_THROW(parse_static_cache("", "--static-cache"), ConfigError);
}

TEST(StaticCacheTest, AutoIsLightOnTheCpuAndFullOnCuda) {
  const c10::Device cpu(c10::kCPU);
  const c10::Device cuda(c10::kCUDA, 0);
  EXPECT_EQ(resolve_static_cache(StaticCache::kAuto, cpu), StaticCache::kLight);
  EXPECT_EQ(resolve_static_cache(StaticCache::kAuto, cuda), StaticCache::kFull);
  for (const StaticCache chosen : {StaticCache::kOff, StaticCache::kLight, StaticCache::kFull}) {
    EXPECT_EQ(resolve_static_cache(chosen, cpu), chosen);
    EXPECT_EQ(resolve_static_cache(chosen, cuda), chosen);
  }
}

TEST(StaticCacheTest, ResultSettingsKeepTheBooleanOfRunsJournaledBeforeTheLightLevel) {
  RunSettings s;
  s.stages = {"a.pt"};
  for (const StaticCache cached : {StaticCache::kAuto, StaticCache::kLight, StaticCache::kFull}) {
    s.static_cache = cached;
    EXPECT_EQ(result_settings_json(s).at("static_cache"), true) << static_cache_name(cached);
  }
  s.static_cache = StaticCache::kOff;
  const auto j = result_settings_json(s);
  EXPECT_EQ(j.at("static_cache"), false);
  EXPECT_EQ(settings_from_json(j, "test").static_cache, StaticCache::kOff);
}

}  // namespace
}  // namespace neuralom
