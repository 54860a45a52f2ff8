#include "neuralom/core/isolated.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

using Clock = std::chrono::steady_clock;

/// Waits for `child` to exit until `deadline`; true (and its status) if it did. Sleeps on a pidfd
/// (Linux >= 5.3), which wakes the moment the child exits, then reaps it below; elsewhere polls,
/// fast then backing off.
bool wait_for_exit(pid_t child, Clock::time_point deadline, int* status) {
#ifdef SYS_pidfd_open
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  if (fd >= 0) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (ready > 0) break;
      if (ready < 0 && errno != EINTR) break;
    }
    ::close(fd);  // the child has exited, the deadline passed or poll failed: the loop below tells which
  }
#endif
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    const pid_t done = ::waitpid(child, status, WNOHANG);
    if (done == child) return true;
    if (done < 0 && errno != EINTR) {
      *status = 0;
      return true;
    }
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

}  // namespace

void run_isolated_probes(const std::vector<std::string>& subjects, const std::function<void(std::size_t)>& probe,
                         double timeout_seconds) {
  if (subjects.empty()) return;
  // Which subject the child is at, in a page both processes see.
  void* shared = ::mmap(nullptr, sizeof(std::atomic<std::size_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
  if (shared == MAP_FAILED) return;
  auto* at = new (shared) std::atomic<std::size_t>(0);
  struct Unmap {
    void* p;
    ~Unmap() { ::munmap(p, sizeof(std::atomic<std::size_t>)); }
  } unmap{shared};

  const pid_t child = ::fork();
  if (child < 0) return;  // no isolation possible: the caller's own reads go ahead unprotected
  if (child == 0) {
    // A crash here is the expected outcome for a corrupt file: no crash report (neuralom's own
    // backtrace, a sanitizer's SEGV report), just the signal the parent looks for.
    for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      at->store(i);
      try {
        probe(i);
      } catch (...) {
        // an ordinary error: the caller repeats the work and reports it properly
      }
    }
    ::_exit(0);  // no atexit handlers, no flushing of the parent's buffers
  }
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  int status = 0;
  if (!wait_for_exit(child, deadline, &status)) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    throw InputError(subjects[std::min(at->load(), subjects.size() - 1)] + ": reading it did not finish in " +
                     std::to_string(static_cast<int>(std::ceil(timeout_seconds))) +
                     " s (a corrupt file, or a stalled filesystem)");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
#ifdef NEURALOM_ASAN  // set by cmake/NeuralomSanitizers.cmake
  // In a sanitizer build, an abnormal exit of the child is a sanitizer's report on code that ran
  // in it (ours included): a finding to surface, not an input to refuse.
  if (WIFEXITED(status)) {
    static const char kMessage[] = "neuralom: a sanitizer reported an error in an isolated probe (above)\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    std::abort();
  }
#endif
  const std::string how = WIFSIGNALED(status) ? std::string("signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                                    ::strsignal(WTERMSIG(status)) + ")"
                                              : "exit status " + std::to_string(WEXITSTATUS(status));
  throw InputError(subjects[std::min(at->load(), subjects.size() - 1)] +
                   ": the file is corrupt: reading it crashed the file-format library in a test process (" + how +
                   "); nothing was run");
}

}  // namespace neuralom
