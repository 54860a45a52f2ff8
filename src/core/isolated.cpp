#include "neuralom/core/isolated.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "neuralom/core/errors.h"

#ifdef NEURALOM_ASAN  // set by cmake/NeuralomSanitizers.cmake
#include <sanitizer/common_interface_defs.h>

#include <fstream>
#include <iostream>
#include <sstream>
#endif

namespace neuralom {
namespace {

using Clock = std::chrono::steady_clock;

// The helper exits after this long without a request: a process that validated its inputs and
// went on to compute does not keep it (and its copy of the memory at fork time) around.
constexpr int kIdleMilliseconds = 5000;
constexpr uint32_t kMaxText = 1u << 20;  // longest subject or argument sent to the helper
constexpr char kReplyDone = 'd';

bool send_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);  // a dead helper must not SIGPIPE us
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool receive_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::recv(fd, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool send_text(int fd, const std::string& text) {
  const auto size = static_cast<uint32_t>(text.size());
  return send_all(fd, &size, sizeof size) && send_all(fd, text.data(), text.size());
}

bool receive_text(int fd, std::string* text) {
  uint32_t size = 0;
  if (!receive_all(fd, &size, sizeof size) || size > kMaxText) return false;
  text->resize(size);
  return size == 0 || receive_all(fd, &(*text)[0], size);
}

/// The helper's loop: a request is (probe address, subject, argument); the reply one byte when the
/// probe returned or threw. Ends with the socket (the parent closed it or exited) or when idle.
[[noreturn]] void serve(int fd, const std::string& report_prefix) {
  // A crash here is the expected outcome for a corrupt file: no crash report (neuralom's own
  // backtrace, a sanitizer's SEGV report), just the signal the parent looks for.
  for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
#ifdef NEURALOM_ASAN
  // Sanitizer reports go to <prefix>.<pid>, for the parent to read (report_crash). A death
  // callback inherited from the parent (libFuzzer's, which writes the input as a crash and prints
  // the parent's statistics) is the parent's business, not the helper's.
  __sanitizer_set_report_path(report_prefix.c_str());
  __sanitizer_set_death_callback(nullptr);
#else
  (void)report_prefix;
#endif
  std::string subject;
  std::string argument;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, kIdleMilliseconds);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) ::_exit(0);  // idle (or poll failed): the parent starts another when needed
    uintptr_t address = 0;
    if (!receive_all(fd, &address, sizeof address) || !receive_text(fd, &subject) || !receive_text(fd, &argument)) {
      ::_exit(0);  // the parent closed the socket or exited
    }
    try {
      reinterpret_cast<IsolatedProbe>(address)(subject, argument);
    } catch (...) {
      // an ordinary error: the caller repeats the work and reports it properly
    }
    if (!send_all(fd, &kReplyDone, 1)) ::_exit(0);
  }
}

struct Helper {
  pid_t pid = -1;
  int fd = -1;
  pid_t owner = -1;  // the process that started it
  bool running() const { return pid > 0; }
};

/// Where a helper of this process writes sanitizer reports (sanitizer builds): the sanitizer
/// appends ".<helper pid>".
std::string report_prefix() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/neuralom-probe-report-" +
         std::to_string(::getpid());
}

std::mutex helper_mutex;
Helper helper;  // guarded by helper_mutex

void stop_at_exit() { stop_isolated_probes(); }

Helper start_helper() {
  // A process that exits normally ends and reaps its helper (where init does not reap orphans,
  // as in some containers, a helper ending on its own would stay a zombie).
  static const bool registered = std::atexit(stop_at_exit) == 0;
  (void)registered;
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) return {};
  const std::string reports = report_prefix();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sockets[0]);
    ::close(sockets[1]);
    return {};
  }
  if (pid == 0) {
    ::close(sockets[0]);
    serve(sockets[1], reports);
  }
  ::close(sockets[1]);
  return {pid, sockets[0], ::getpid()};
}

/// Waits for `pid` to exit until `deadline`; true (and its status) if it did. Polls, fast then
/// backing off (a helper whose socket closed has exited or is about to).
bool wait_for_exit(pid_t pid, Clock::time_point deadline, int* status) {
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    const pid_t done = ::waitpid(pid, status, WNOHANG);
    if (done == pid) return true;
    if (done < 0 && errno != EINTR) {
      *status = 0;
      return true;
    }
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

/// A process forked from the one that started the helper has a copy of its socket, but the helper
/// is not its child: it lets go of the copy and starts its own when it needs one.
void forget_inherited_helper() {
  if (helper.running() && helper.owner != ::getpid()) {
    ::close(helper.fd);
    helper = {};
  }
}

/// How a helper ended: its wait status and, in sanitizer builds, what the sanitizers reported in it.
struct Ended {
  int status = 0;
  std::string report;
};

/// Ends the helper (killing it first if `kill`) and reaps it. In sanitizer builds it also takes
/// the helper's report file (sanitizers write one for warnings as well as for errors), so that
/// none is left behind in TMPDIR.
Ended end_helper(bool kill) {
  Ended ended;
  forget_inherited_helper();
  if (!helper.running()) return ended;
  ::close(helper.fd);  // a helper waiting for a request exits on its own
  if (kill) ::kill(helper.pid, SIGKILL);
  if (!wait_for_exit(helper.pid, Clock::now() + std::chrono::seconds(10), &ended.status)) {
    ::kill(helper.pid, SIGKILL);
    ::waitpid(helper.pid, &ended.status, 0);
  }
#ifdef NEURALOM_ASAN
  const std::string path = report_prefix() + "." + std::to_string(helper.pid);
  std::ostringstream report;
  if (std::ifstream file{path}) report << file.rdbuf();
  ::unlink(path.c_str());
  ended.report = report.str();
#endif
  helper = {};
  return ended;
}

enum class Outcome { kDone, kHelperGone, kTimedOut };

/// Sends one request and waits for its reply until `deadline`.
Outcome probe_in_helper(IsolatedProbe probe, const std::string& subject, const std::string& argument,
                        Clock::time_point deadline) {
  const auto address = reinterpret_cast<uintptr_t>(probe);
  if (!send_all(helper.fd, &address, sizeof address) || !send_text(helper.fd, subject) ||
      !send_text(helper.fd, argument)) {
    return Outcome::kHelperGone;
  }
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Outcome::kTimedOut;
    pollfd p{helper.fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) return Outcome::kHelperGone;
    if (ready > 0) {
      char reply = 0;
      return receive_all(helper.fd, &reply, 1) && reply == kReplyDone ? Outcome::kDone : Outcome::kHelperGone;
    }
  }
}

#ifdef NEURALOM_ASAN
bool is_sanitizer_frame(const std::string& function) {
  static const char* const kRuntime[] = {"malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc",
                                         "strdup", "strndup", "memcpy", "memmove", "memset", "memcmp", "strlen",
                                         "strnlen", "strcmp", "strncmp", "strcpy", "strncpy"};
  for (const char* prefix : {"__interceptor_", "__asan", "__sanitizer", "__ubsan", "__lsan", "internal_", "operator new",
                             "operator delete"}) {
    if (function.rfind(prefix, 0) == 0) return true;
  }
  // The runtime's own helpers of its interceptors, e.g. MemcmpInterceptorCommon.
  if (function.find("Interceptor") != std::string::npos) return true;
  for (const char* name : kRuntime) {
    if (function == name) return true;
  }
  return false;
}

/// Whether a sanitizer report is about an access the HDF5 library made itself: the first frame of
/// its first stack outside the sanitizer's runtime (interceptors, allocator) lies in libhdf5.
bool reported_in_hdf5(const std::string& report) {
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string::npos || line[start] != '#') continue;
    // "    #1 0x7f... in H5MM_xstrdup (/lib/x86_64-linux-gnu/libhdf5_serial.so.103+0x1842ad)"
    const auto in_at = line.find(" in ");
    if (in_at != std::string::npos) {
      const auto name_at = in_at + 4;
      if (is_sanitizer_frame(line.substr(name_at, line.find(' ', name_at) - name_at))) continue;
    }
    return line.find("/libhdf5") != std::string::npos;
  }
  return false;
}
#endif

[[noreturn]] void report_crash(const std::string& subject, const Ended& ended) {
  const int status = ended.status;
#ifdef NEURALOM_ASAN
  // In a sanitizer build, an abnormal exit of the helper is a sanitizer's report on code that ran
  // in it. In our code it is a finding to surface, not an input to refuse. In the HDF5 library
  // (uninstrumented third-party code, whose own memory errors on corrupt files the fuzzer finds:
  // an unchecked allocation size, an over-read of an unterminated string) it is what a crash is in
  // a production build: contained, and the file refused.
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    const std::string& text = ended.report;
    if (!reported_in_hdf5(text)) {
      std::cerr << text << "neuralom: a sanitizer reported an error in an isolated probe (above)" << std::endl;
      std::abort();
    }
    const auto summary = text.find("SUMMARY: ");
    std::cerr << "neuralom: contained in the probing helper: "
              << (summary == std::string::npos ? std::string("a sanitizer report")
                                               : text.substr(summary, text.find('\n', summary) - summary))
              << std::endl;
  }
#endif
  const std::string how = WIFSIGNALED(status) ? std::string("signal ") + std::to_string(WTERMSIG(status)) + " (" +
                                                    ::strsignal(WTERMSIG(status)) + ")"
                                              : "exit status " + std::to_string(WEXITSTATUS(status));
  throw InputError(subject + ": the file is corrupt: reading it crashed the file-format library in a test process (" +
                   how + "); nothing was run");
}

}  // namespace

void run_isolated_probes(const std::vector<std::string>& subjects, IsolatedProbe probe, const std::string& argument,
                         double timeout_seconds) {
  if (subjects.empty() || probe == nullptr) return;
  const std::lock_guard<std::mutex> lock(helper_mutex);
  forget_inherited_helper();
  const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  for (const std::string& subject : subjects) {
    if (subject.size() > kMaxText || argument.size() > kMaxText) {
      throw InputError(subject.substr(0, 256) + "...: path too long to probe");
    }
    // A helper that went idle and exited is replaced once; a second helper that ends without
    // answering ended because of this subject.
    for (int attempt = 0;; ++attempt) {
      if (!helper.running()) helper = start_helper();
      if (!helper.running()) return;  // no isolation possible: the caller's own reads go ahead unprotected
      const Outcome outcome = probe_in_helper(probe, subject, argument, Clock::now() + timeout);
      if (outcome == Outcome::kDone) break;
      if (outcome == Outcome::kTimedOut) {
        end_helper(/*kill=*/true);
        throw InputError(subject + ": reading it did not finish in " +
                         std::to_string(static_cast<int>(std::ceil(timeout_seconds))) +
                         " s (a corrupt file, or a stalled filesystem)");
      }
      const Ended ended = end_helper(/*kill=*/false);
      const bool clean_exit = WIFEXITED(ended.status) && WEXITSTATUS(ended.status) == 0;
      if (clean_exit && attempt == 0) continue;
      report_crash(subject, ended);
    }
  }
}

void stop_isolated_probes() noexcept {
  const std::lock_guard<std::mutex> lock(helper_mutex);
  end_helper(/*kill=*/true);
}

}  // namespace neuralom
