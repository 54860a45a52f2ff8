#include "io/detail/npy_header_dict.h"

#include <cctype>
#include <limits>

#include "neuralom/core/errors.h"

namespace neuralom::detail {
namespace {

class HeaderParser {
 public:
  HeaderParser(const std::string& path, const std::string& header) : path_(path), s_(header) {}

  /// Parses "{'key': value, ...}" followed by nothing but whitespace.
  NpyHeaderDict parse_dict() {
    NpyHeaderDict items;
    skip_space();
    expect('{');
    skip_space();
    while (peek() != '}') {
      std::string key = parse_string("a quoted key");
      skip_space();
      expect(':');
      skip_space();
      NpyHeaderValue value = parse_value(key);
      items.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (peek() == ',') {  // Python allows a trailing comma, and numpy writes one
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        fail("expected ',' or '}'");
      }
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the dictionary");
    return items;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    std::string shown = s_;
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n')) shown.pop_back();
    throw InputError(path_ + ": malformed .npy header: " + what + " at character " + std::to_string(pos_) +
                     " of \"" + shown + "\"");
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string parse_string(const char* what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(std::string("expected ") + what);
    ++pos_;
    const std::size_t end = s_.find(quote, pos_);
    if (end == std::string::npos) fail("unterminated string");
    std::string text = s_.substr(pos_, end - pos_);
    // Escapes never occur in the keys and dtype strings numpy writes; refuse rather than misread.
    if (text.find('\\') != std::string::npos) fail("escape sequences are not supported");
    pos_ = end + 1;
    return text;
  }

  NpyHeaderValue parse_value(const std::string& key) {
    NpyHeaderValue v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      v.kind = NpyHeaderValue::Kind::kString;
      v.text = parse_string("a string");
    } else if (s_.compare(pos_, 4, "True") == 0) {
      v.kind = NpyHeaderValue::Kind::kBool;
      v.flag = true;
      pos_ += 4;
    } else if (s_.compare(pos_, 5, "False") == 0) {
      v.kind = NpyHeaderValue::Kind::kBool;
      v.flag = false;
      pos_ += 5;
    } else if (c == '(') {
      v.kind = NpyHeaderValue::Kind::kTuple;
      v.tuple = parse_tuple();
    } else if (c == '[' && key == "descr") {
      // A list descr is a structured (record) dtype.
      throw InputError(path_ + ": unsupported dtype: structured (record) arrays are not supported "
                               "(expected a plain numeric array)");
    } else {
      fail("expected a string, True, False or a tuple of integers");
    }
    return v;
  }

  std::vector<int64_t> parse_tuple() {
    std::vector<int64_t> values;
    expect('(');
    skip_space();
    bool needs_comma = false;  // "(5)" is an int in Python, not a tuple; "(5,)" is the tuple
    while (peek() != ')') {
      values.push_back(parse_int());
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
        needs_comma = false;
      } else if (peek() == ')') {
        needs_comma = values.size() == 1;
      } else {
        fail("expected ',' or ')' in the shape");
      }
    }
    if (needs_comma) fail("a one-element shape needs a trailing comma, as in (5,)");
    ++pos_;
    return values;
  }

  int64_t parse_int() {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a non-negative integer in the shape");
    int64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const int digit = peek() - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("shape dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // written by numpy under Python 2 ("(3L, 4L)")
    return v;
  }

  const std::string& path_;
  const std::string& s_;
  std::size_t pos_ = 0;
};


}  // namespace

NpyHeaderDict parse_npy_header_dict(const std::string& path, const std::string& header) {
  return HeaderParser(path, header).parse_dict();
}

}  // namespace neuralom::detail
