#include "neuralom/core/isolated.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "neuralom/core/errors.h"

namespace neuralom {

void run_isolated_probe(const std::string& what, const std::function<void()>& probe, double timeout_seconds) {
  const pid_t child = ::fork();
  if (child < 0) return;  // no isolation possible: the caller's own reads go ahead unprotected
  if (child == 0) {
    try {
      probe();
    } catch (...) {
      // an ordinary error: the caller repeats the work and reports it properly
    }
    ::_exit(0);  // no atexit handlers, no flushing of the parent's buffers
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) return;  // lost the child (should not happen): go ahead
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      throw InputError(what + ": reading it did not finish in " + std::to_string(static_cast<int>(std::ceil(timeout_seconds))) +
                       " s (a corrupt file, or a stalled filesystem)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string how = WIFSIGNALED(status) ? std::string("signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                                    ::strsignal(WTERMSIG(status)) + ")"
                                              : "exit status " + std::to_string(WEXITSTATUS(status));
  throw InputError(what + ": the file is corrupt: reading it crashed the file-format library in a test process (" +
                   how + "); nothing was run");
}

}  // namespace neuralom
