// A minimal JSON value tree and serialiser for the files neuralom writes (metrics.json, run.json,
// bench reports). Objects keep insertion order so that output is stable and readable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace neuralom::detail {

class Json {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Json() = default;  ///< null
  Json(std::nullptr_t) {}
  Json(bool v);
  Json(int v);
  Json(int64_t v);
  Json(std::size_t v);
  Json(double v);   ///< NaN and infinities serialise as null
  Json(const char* v);
  Json(std::string v);
  Json(const std::vector<int64_t>& v);
  Json(const std::vector<double>& v);
  Json(const std::vector<std::string>& v);

  static Json array();
  static Json object();

  Kind kind() const { return kind_; }

  /// Object member access; inserts null if absent (turns a null value into an object).
  Json& operator[](const std::string& key);
  /// Appends to an array (turns a null value into an array).
  void push_back(Json value);

  /// Serialises; indent <= 0 gives one line. Strings are escaped per RFC 8259.
  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0.0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<std::pair<std::string, Json>> object_;
};

}  // namespace neuralom::detail
