// run_isolated_probes: a probe that crashes, hangs or fails abnormally in the child becomes an
// InputError in the parent naming the subject it was at; probes that finish (or throw an ordinary
// error) let the caller go on.
#include "neuralom/core/isolated.h"

#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using testing::error_message;

// Whether this is an AddressSanitizer build (NEURALOM_ASAN: set by cmake/NeuralomSanitizers.cmake).
#ifdef NEURALOM_ASAN
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST(IsolatedProbeTest, ProbesThatFinishOrThrowLetTheCallerGoOn) {
  EXPECT_NO_THROW(run_isolated_probes({"a.h5", "b.h5"}, [](std::size_t) {}));
  EXPECT_NO_THROW(run_isolated_probes({"a.h5", "b.h5"}, [](std::size_t i) {
    if (i == 0) throw std::runtime_error("an ordinary error");
  }));
  EXPECT_NO_THROW(run_isolated_probes({"c.h5"}, [](std::size_t) { throw InputError("reported by the caller itself"); }));
  EXPECT_NO_THROW(run_isolated_probes({}, [](std::size_t) { std::raise(SIGSEGV); }));  // nothing to probe
}

TEST(IsolatedProbeTest, ACrashIsAnInputErrorNamingTheFileBeingRead) {
  const std::string message = error_message<InputError>([] {
    run_isolated_probes({"/data/2020.h5", "/data/land_mask.h5"}, [](std::size_t i) {
      if (i == 1) std::raise(SIGSEGV);
    });
  });
  EXPECT_EQ(message.rfind("/data/land_mask.h5: the file is corrupt", 0), 0u) << message;
  EXPECT_NE(message.find("signal 11"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AnAbnormalExitIsAnInputError) {
  if (kSanitized) GTEST_SKIP() << "in a sanitizer build an abnormal exit of the probe is a sanitizer report, and aborts";
  const std::string message =
      error_message<InputError>([] { run_isolated_probes({"m.h5"}, [](std::size_t) { ::_exit(1); }); });
  EXPECT_EQ(message.rfind("m.h5: the file is corrupt", 0), 0u) << message;
  EXPECT_NE(message.find("exit status 1"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AHangIsStoppedAfterTheTimeout) {
  const std::string message = error_message<InputError>([] {
    run_isolated_probes({"a.h5"}, [](std::size_t) { ::pause(); }, /*timeout_seconds=*/0.3);
  });
  EXPECT_EQ(message.rfind("a.h5: reading it did not finish in 1 s", 0), 0u) << message;
}

TEST(IsolatedProbeTest, TheParentIsUnaffectedByWhatTheChildChanges) {
  int value = 1;
  run_isolated_probes({"x"}, [&value](std::size_t) { value = 2; });
  EXPECT_EQ(value, 1);
}

}  // namespace
}  // namespace neuralom
