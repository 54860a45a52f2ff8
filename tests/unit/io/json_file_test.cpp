// The thin layer over nlohmann-json for the files neuralom writes: what json_text() adds to a plain
// dump() (non-finite numbers, invalid UTF-8, insertion order) and the atomic write.
#include "neuralom/io/json_file.h"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "temp_dir.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using Json = nlohmann::ordered_json;
using testing::TempDir;

TEST(JsonFileTest, NonFiniteNumbersBecomeNull) {
  Json j = Json::object();
  j["nan"] = std::nan("");
  j["inf"] = std::numeric_limits<double>::infinity();
  j["scores"] = std::vector<double>{1.5, -std::numeric_limits<double>::infinity(), std::nan("")};
  EXPECT_EQ(json_text(j, -1), R"({"nan":null,"inf":null,"scores":[1.5,null,null]})");
}

TEST(JsonFileTest, NumbersRoundTripAndIntegralDoublesStayFloatingPoint) {
  // Python's json reads "2.0" as a float and "2" as an int: the type must not depend on the value.
  EXPECT_EQ(json_text(Json(2.0), -1), "2.0");
  EXPECT_EQ(json_text(Json(-0.0), -1), "-0.0");
  EXPECT_EQ(json_text(Json(0.1), -1), "0.1");
  EXPECT_EQ(json_text(Json(1.0 / 3.0), -1), "0.3333333333333333");
  EXPECT_EQ(json_text(Json(std::numeric_limits<int64_t>::min()), -1), "-9223372036854775808");
  EXPECT_EQ(json_text(Json(std::vector<int64_t>{1, 2}), -1), "[1,2]");
}

TEST(JsonFileTest, KeysKeepTheirInsertionOrder) {
  Json j;
  j["zeta"] = 1;
  j["alpha"] = 2;
  j["mid"] = 3;
  j["alpha"] = "replaced";
  EXPECT_EQ(json_text(j, -1), R"({"zeta":1,"alpha":"replaced","mid":3})");
}

TEST(JsonFileTest, InvalidUtf8IsReplacedNotFatal) {
  // A path in Latin-1 ("caf\xe9") must not abort writing run.json after hours of compute.
  Json j;
  j["path"] = std::string("/data/caf\xe9.h5");
  EXPECT_EQ(json_text(j, -1), "{\"path\":\"/data/caf\xef\xbf\xbd.h5\"}");
  // Valid UTF-8 passes through unescaped.
  EXPECT_EQ(json_text(Json("\xc3\xa9t\xc3\xa9"), -1), "\"\xc3\xa9t\xc3\xa9\"");
}

TEST(JsonFileTest, IndentedLayout) {
  Json j;
  j["list"] = std::vector<int64_t>{1, 2};
  j["empty"] = Json::array();
  j["nested"]["ok"] = true;
  EXPECT_EQ(json_text(j, 1),
            "{\n"
            " \"list\": [\n"
            "  1,\n"
            "  2\n"
            " ],\n"
            " \"empty\": [],\n"
            " \"nested\": {\n"
            "  \"ok\": true\n"
            " }\n"
            "}");
}

TEST(JsonFileTest, WritesTheTextAndANewlineAtomically) {
  const TempDir dir;
  const std::string path = dir.file("run.json");
  Json j;
  j["a"] = 1;
  write_json_file(path, j);
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "{\n  \"a\": 1\n}\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  EXPECT_THROW(write_json_file(dir.file("missing/run.json"), j), OutputError);
}

}  // namespace
}  // namespace neuralom
