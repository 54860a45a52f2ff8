// Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM (Slurm's scancel, the end of a time limit,
// mpirun passing on a Ctrl-C).
//
// While an InterruptGuard lives, the first of these signals does not end the process: it is
// recorded, and the run polls it between day-steps, stops there, keeps what its journal holds and
// exits with 128 + the signal number. A second signal ends the process at once (the handler is
// installed with SA_RESETHAND), for a user who does not want to wait for the current day-step.
//
// The signal number lives in one process-wide sig_atomic_t: a signal handler has no other way to
// hand anything to the program.
#pragma once

#include <string>

namespace neuralom {

class InterruptGuard {
 public:
  /// Installs the handlers (and forgets a signal recorded by an earlier guard).
  InterruptGuard();
  /// Restores the handlers that were installed before.
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// The signal received while this guard lives (SIGINT or SIGTERM), 0 if none. Never throws.
  int signal_received() const;
};

/// "SIGINT", "SIGTERM", else "signal N".
std::string signal_name(int signal_number);

}  // namespace neuralom
