#include "detail/json.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace neuralom::detail {
namespace {

void append_escaped(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          // RFC 8259 section 7: the remaining control characters must be \u-escaped.
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);  // UTF-8 bytes pass through unchanged
        }
    }
  }
  out.push_back('"');
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no NaN or Infinity
    return;
  }
  // std::to_chars without a precision gives the shortest text that parses back to the same double,
  // independent of the C locale (snprintf would print "0,5" under a German locale).
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  std::string text(buf, result.ptr);
  // Keep integral doubles recognisable as floating point ("2.0", as Python prints them), so that a
  // reader's type does not depend on the value.
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  out += text;
}

void append_newline(std::string& out, int indent, int depth) {
  if (indent <= 0) return;
  out.push_back('\n');
  out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(depth), ' ');
}

}  // namespace

Json::Json(bool v) : kind_(Kind::kBool), bool_(v) {}
Json::Json(int v) : kind_(Kind::kInt), int_(v) {}
Json::Json(int64_t v) : kind_(Kind::kInt), int_(v) {}
Json::Json(std::size_t v) : kind_(Kind::kInt), int_(static_cast<int64_t>(v)) {}
Json::Json(double v) : kind_(Kind::kDouble), double_(v) {}
Json::Json(const char* v) : kind_(Kind::kString), string_(v == nullptr ? "" : v) {}
Json::Json(std::string v) : kind_(Kind::kString), string_(std::move(v)) {}

Json::Json(const std::vector<int64_t>& v) : kind_(Kind::kArray) {
  array_.reserve(v.size());
  for (const int64_t x : v) array_.emplace_back(x);
}

Json::Json(const std::vector<double>& v) : kind_(Kind::kArray) {
  array_.reserve(v.size());
  for (const double x : v) array_.emplace_back(x);
}

Json::Json(const std::vector<std::string>& v) : kind_(Kind::kArray) {
  array_.reserve(v.size());
  for (const auto& x : v) array_.emplace_back(x);
}

Json Json::array() {
  Json j;
  j.kind_ = Kind::kArray;
  return j;
}

Json Json::object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}

Json& Json::operator[](const std::string& key) {
  if (kind_ == Kind::kNull) kind_ = Kind::kObject;
  if (kind_ != Kind::kObject) throw std::logic_error("Json: operator[] on a value that is not an object");
  // Linear search: the objects neuralom writes have a handful of keys, and insertion order matters.
  for (auto& member : object_) {
    if (member.first == key) return member.second;
  }
  object_.emplace_back(key, Json());
  return object_.back().second;
}

void Json::push_back(Json value) {
  if (kind_ == Kind::kNull) kind_ = Kind::kArray;
  if (kind_ != Kind::kArray) throw std::logic_error("Json: push_back on a value that is not an array");
  array_.push_back(std::move(value));
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

void Json::dump_to(std::string& out, int indent, int depth) const {
  switch (kind_) {
    case Kind::kNull: out += "null"; return;
    case Kind::kBool: out += bool_ ? "true" : "false"; return;
    case Kind::kInt: out += std::to_string(int_); return;
    case Kind::kDouble: append_double(out, double_); return;
    case Kind::kString: append_escaped(out, string_); return;
    case Kind::kArray: {
      if (array_.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (std::size_t i = 0; i < array_.size(); ++i) {
        if (i > 0) out += indent > 0 ? "," : ", ";
        append_newline(out, indent, depth + 1);
        array_[i].dump_to(out, indent, depth + 1);
      }
      append_newline(out, indent, depth);
      out.push_back(']');
      return;
    }
    case Kind::kObject: {
      if (object_.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      for (std::size_t i = 0; i < object_.size(); ++i) {
        if (i > 0) out += indent > 0 ? "," : ", ";
        append_newline(out, indent, depth + 1);
        append_escaped(out, object_[i].first);
        out += ": ";
        object_[i].second.dump_to(out, indent, depth + 1);
      }
      append_newline(out, indent, depth);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace neuralom::detail
