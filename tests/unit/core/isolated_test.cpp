// run_isolated_probe: a probe that crashes, hangs or fails abnormally in the child becomes an
// InputError in the parent; one that finishes (or throws an ordinary error) lets the caller go on.
#include "neuralom/core/isolated.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "error_message.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using testing::error_message;

TEST(IsolatedProbeTest, AProbeThatFinishesOrThrowsLetsTheCallerGoOn) {
  EXPECT_NO_THROW(run_isolated_probe("file a", [] {}));
  EXPECT_NO_THROW(run_isolated_probe("file b", [] { throw std::runtime_error("an ordinary error"); }));
  EXPECT_NO_THROW(run_isolated_probe("file c", [] { throw InputError("reported by the caller itself"); }));
}

TEST(IsolatedProbeTest, ACrashInTheChildIsAnInputErrorNamingTheFile) {
  const std::string message = error_message<InputError>([] {
    run_isolated_probe("ocean data file /data/2020.h5", [] { std::raise(SIGSEGV); });
  });
  EXPECT_NE(message.find("ocean data file /data/2020.h5: the file is corrupt"), std::string::npos) << message;
  EXPECT_NE(message.find("signal 11"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AnAbnormalExitIsAnInputError) {
  const std::string message =
      error_message<InputError>([] { run_isolated_probe("land mask m.h5", [] { ::_exit(1); }); });
  EXPECT_NE(message.find("land mask m.h5: the file is corrupt"), std::string::npos) << message;
  EXPECT_NE(message.find("exit status 1"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AHangIsStoppedAfterTheTimeout) {
  const std::string message = error_message<InputError>([] {
    run_isolated_probe("atmosphere data file a.h5", [] { ::pause(); }, /*timeout_seconds=*/0.3);
  });
  EXPECT_NE(message.find("atmosphere data file a.h5: reading it did not finish in 1 s"), std::string::npos)
      << message;
}

TEST(IsolatedProbeTest, TheParentIsUnaffectedByWhatTheChildChanges) {
  int value = 1;
  run_isolated_probe("x", [&value] { value = 2; });
  EXPECT_EQ(value, 1);
}

}  // namespace
}  // namespace neuralom
