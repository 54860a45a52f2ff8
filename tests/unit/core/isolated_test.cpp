// run_isolated_probes: a probe that crashes, hangs or fails abnormally in the helper process
// becomes an InputError in the parent naming the subject it was at; probes that finish (or throw
// an ordinary error) let the caller go on; the helper serves many calls and is replaced after a
// crash, an idle exit or stop_isolated_probes().
#include "neuralom/core/isolated.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
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

// Probes (plain functions: they run in the helper). The subject names what to do.
void act(const std::string& subject, const std::string& /*argument*/) {
  if (subject.find("crash") != std::string::npos) std::raise(SIGSEGV);
  if (subject.find("throw") != std::string::npos) throw std::runtime_error("an ordinary error");
  if (subject.find("input-error") != std::string::npos) throw InputError("reported by the caller itself");
  if (subject.find("exit1") != std::string::npos) ::_exit(1);
  if (subject.find("exit0") != std::string::npos) ::_exit(0);
  if (subject.find("hang") != std::string::npos) ::pause();
}

// Appends the helper's pid to the file named by `argument`.
void record_pid(const std::string&, const std::string& argument) { std::ofstream(argument, std::ios::app) << ::getpid() << "\n"; }

std::vector<long> read_pids(const std::string& path) {
  std::vector<long> pids;
  std::ifstream in(path);
  for (long pid = 0; in >> pid;) pids.push_back(pid);
  return pids;
}

std::string scratch_file(const std::string& name) {
  const std::string path = ::testing::TempDir() + "isolated_test_" + name + "_" + std::to_string(::getpid());
  std::remove(path.c_str());
  return path;
}

TEST(IsolatedProbeTest, ProbesThatFinishOrThrowLetTheCallerGoOn) {
  EXPECT_NO_THROW(run_isolated_probes({"a.h5", "b.h5"}, act));
  EXPECT_NO_THROW(run_isolated_probes({"throw.h5", "b.h5"}, act));
  EXPECT_NO_THROW(run_isolated_probes({"input-error.h5"}, act));
  EXPECT_NO_THROW(run_isolated_probes({}, act));  // nothing to probe
  EXPECT_NO_THROW(run_isolated_probes({"crash.h5"}, nullptr));
}

TEST(IsolatedProbeTest, ACrashIsAnInputErrorNamingTheFileBeingRead) {
  const std::string message =
      error_message<InputError>([] { run_isolated_probes({"/data/2020.h5", "/data/crash_mask.h5"}, act); });
  EXPECT_EQ(message.rfind("/data/crash_mask.h5: the file is corrupt", 0), 0u) << message;
  EXPECT_NE(message.find("signal 11"), std::string::npos) << message;
  // The next call gets a new helper.
  EXPECT_NO_THROW(run_isolated_probes({"a.h5"}, act));
}

TEST(IsolatedProbeTest, AnAbnormalExitIsAnInputError) {
  if (kSanitized) GTEST_SKIP() << "in a sanitizer build an abnormal exit of the probe is a sanitizer report, and aborts";
  const std::string message = error_message<InputError>([] { run_isolated_probes({"m_exit1.h5"}, act); });
  EXPECT_EQ(message.rfind("m_exit1.h5: the file is corrupt", 0), 0u) << message;
  EXPECT_NE(message.find("exit status 1"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AProbeThatEndsTheHelperWithoutAnswerIsAnInputErrorAfterOneRetry) {
  const std::string message = error_message<InputError>([] { run_isolated_probes({"exit0.h5"}, act); });
  EXPECT_EQ(message.rfind("exit0.h5: the file is corrupt", 0), 0u) << message;
  EXPECT_NE(message.find("exit status 0"), std::string::npos) << message;
}

TEST(IsolatedProbeTest, AHangIsStoppedAfterTheTimeout) {
  const std::string message = error_message<InputError>([] {
    run_isolated_probes({"hang.h5"}, act, "", /*timeout_seconds=*/0.3);
  });
  EXPECT_EQ(message.rfind("hang.h5: reading it did not finish in 1 s", 0), 0u) << message;
  EXPECT_NO_THROW(run_isolated_probes({"a.h5"}, act));
}

TEST(IsolatedProbeTest, ProbesRunInOneHelperProcessThatIsNotTheCaller) {
  const std::string file = scratch_file("pids");
  stop_isolated_probes();
  run_isolated_probes({"a", "b"}, record_pid, file);
  run_isolated_probes({"c"}, record_pid, file);
  const std::vector<long> pids = read_pids(file);
  ASSERT_EQ(pids.size(), 3u);
  EXPECT_NE(pids[0], static_cast<long>(::getpid()));
  EXPECT_EQ(pids[1], pids[0]);
  EXPECT_EQ(pids[2], pids[0]);
  // Stopping it ends that process (reaped: no zombie is left), and the next call starts another.
  stop_isolated_probes();
  EXPECT_EQ(::kill(static_cast<pid_t>(pids[0]), 0), -1);
  run_isolated_probes({"d"}, record_pid, file);
  const std::vector<long> after = read_pids(file);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_NE(after[3], pids[0]);
  std::remove(file.c_str());
}

TEST(IsolatedProbeTest, AProcessThatExitsEndsAndReapsItsHelper) {
  const std::string file = scratch_file("exit");
  EXPECT_EXIT(
      {
        run_isolated_probes({"a"}, record_pid, file);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  const std::vector<long> pids = read_pids(file);
  ASSERT_EQ(pids.size(), 1u);
  // Neither running nor a zombie: the exiting process killed and reaped it.
  EXPECT_EQ(::kill(static_cast<pid_t>(pids[0]), 0), -1);
  std::remove(file.c_str());
}

TEST(IsolatedProbeTest, AHelperThatWentIdleIsReplacedWithoutAnError) {
  const std::string file = scratch_file("idle");
  stop_isolated_probes();
  run_isolated_probes({"a"}, record_pid, file);
  std::this_thread::sleep_for(std::chrono::milliseconds(5600));  // the helper exits after 5 s idle
  EXPECT_NO_THROW(run_isolated_probes({"b"}, record_pid, file));
  const std::vector<long> pids = read_pids(file);
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[1], pids[0]);
  std::remove(file.c_str());
}

}  // namespace
}  // namespace neuralom
