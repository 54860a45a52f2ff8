// The message of the exception a test expects, for tests that check what an error says.
#pragma once

#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace neuralom::testing {

/// Calls `f` and returns the what() of the `E` it throws; records a test failure (and returns "")
/// if it throws nothing. Other exception types propagate and fail the test.
template <typename E, typename F>
std::string error_message(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

}  // namespace neuralom::testing
