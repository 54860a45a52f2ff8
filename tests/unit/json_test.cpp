// The JSON writer: RFC 8259 escaping, number formatting, layout and insertion order.
#include "detail/json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace neuralom::detail {
namespace {

TEST(JsonTest, Scalars) {
  EXPECT_EQ(Json().dump(), "null");
  EXPECT_EQ(Json(nullptr).dump(), "null");
  EXPECT_EQ(Json(true).dump(), "true");
  EXPECT_EQ(Json(false).dump(), "false");
  EXPECT_EQ(Json(-5).dump(), "-5");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::min()).dump(), "-9223372036854775808");
  EXPECT_EQ(Json(std::numeric_limits<int64_t>::max()).dump(), "9223372036854775807");
  EXPECT_EQ(Json(std::size_t{42}).dump(), "42");
  EXPECT_EQ(Json("text").dump(), "\"text\"");
  EXPECT_EQ(Json(static_cast<const char*>(nullptr)).dump(), "\"\"");
}

TEST(JsonTest, DoublesUseTheShortestRoundTripText) {
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1.0 / 3.0).dump(), "0.3333333333333333");
  EXPECT_EQ(Json(-2.5).dump(), "-2.5");
  EXPECT_EQ(Json(1e21).dump(), "1e+21");
  EXPECT_EQ(Json(1e-7).dump(), "1e-07");
  EXPECT_EQ(Json(std::numeric_limits<double>::max()).dump(), "1.7976931348623157e+308");
  EXPECT_EQ(Json(2.5f).dump(), "2.5");  // a float widens exactly
}

TEST(JsonTest, IntegralDoublesStayRecognisablyFloatingPoint) {
  EXPECT_EQ(Json(2.0).dump(), "2.0");
  EXPECT_EQ(Json(100.0).dump(), "100.0");
  EXPECT_EQ(Json(123456789.0).dump(), "123456789.0");
  EXPECT_EQ(Json(0.0).dump(), "0.0");
  EXPECT_EQ(Json(-0.0).dump(), "-0.0");
}

TEST(JsonTest, NonFiniteDoublesBecomeNull) {
  EXPECT_EQ(Json(std::nan("")).dump(), "null");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_EQ(Json(-std::numeric_limits<double>::infinity()).dump(), "null");
  EXPECT_EQ(Json(std::vector<double>{1.5, std::nan("")}).dump(0), "[1.5, null]");
}

TEST(JsonTest, StringsAreEscapedPerRfc8259) {
  EXPECT_EQ(Json("a\"b\\c").dump(), R"("a\"b\\c")");
  EXPECT_EQ(Json("\n\t\r\b\f").dump(), R"("\n\t\r\b\f")");
  // Other control characters as \u00XX, including NUL inside a std::string.
  EXPECT_EQ(Json(std::string("x\x01y\x1f", 4)).dump(), R"("x\u0001y\u001f")");
  EXPECT_EQ(Json(std::string("\0", 1)).dump(), R"("\u0000")");
  // '/', DEL and UTF-8 need no escaping and pass through unchanged.
  EXPECT_EQ(Json("a/b\x7f\xc3\xa9").dump(), "\"a/b\x7f\xc3\xa9\"");
}

TEST(JsonTest, KeysAreEscapedToo) {
  Json j;
  j["say \"hi\"\n"] = 1;
  EXPECT_EQ(j.dump(0), R"({"say \"hi\"\n": 1})");
}

TEST(JsonTest, IndentedLayout) {
  Json j = Json::object();
  j["name"] = "x";
  j["n"] = 3;
  j["list"] = std::vector<int64_t>{1, 2};
  j["empty_list"] = Json::array();
  j["empty_object"] = Json::object();
  j["nested"]["ok"] = true;
  EXPECT_EQ(j.dump(),
            "{\n"
            "  \"name\": \"x\",\n"
            "  \"n\": 3,\n"
            "  \"list\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"empty_list\": [],\n"
            "  \"empty_object\": {},\n"
            "  \"nested\": {\n"
            "    \"ok\": true\n"
            "  }\n"
            "}");
  EXPECT_EQ(j.dump(0),
            R"({"name": "x", "n": 3, "list": [1, 2], "empty_list": [], "empty_object": {}, "nested": {"ok": true}})");
  EXPECT_EQ(j.dump(-1), j.dump(0));
}

TEST(JsonTest, ObjectsKeepInsertionOrderAndReplaceInPlace) {
  Json j;
  j["zeta"] = 1;
  j["alpha"] = 2;
  j["mid"] = 3;
  j["alpha"] = "replaced";
  EXPECT_EQ(j.dump(0), R"({"zeta": 1, "alpha": "replaced", "mid": 3})");
}

TEST(JsonTest, ArraysFromVectorsAndPushBack) {
  EXPECT_EQ(Json(std::vector<std::string>{"a", "b\""}).dump(0), R"(["a", "b\""])");
  EXPECT_EQ(Json(std::vector<int64_t>{}).dump(0), "[]");
  Json list;  // null becomes an array on the first push_back
  list.push_back(1);
  list.push_back(2.5);
  list.push_back("three");
  list.push_back(Json());
  Json inner = Json::object();
  inner["k"] = false;
  list.push_back(inner);
  EXPECT_EQ(list.kind(), Json::Kind::kArray);
  EXPECT_EQ(list.dump(0), R"([1, 2.5, "three", null, {"k": false}])");
}

TEST(JsonTest, MisuseIsALogicError) {
  Json number(1);
  EXPECT_THROW(number["key"], std::logic_error);
  Json object = Json::object();
  EXPECT_THROW(object.push_back(1), std::logic_error);
  Json array = Json::array();
  EXPECT_THROW(array["key"], std::logic_error);
}

}  // namespace
}  // namespace neuralom::detail
