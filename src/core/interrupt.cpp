#include "neuralom/core/interrupt.h"

#include <csignal>

namespace neuralom {
namespace {

volatile std::sig_atomic_t g_signal = 0;

// Previous dispositions, restored by the guard's destructor.
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void record_signal(int signal_number) { g_signal = signal_number; }

}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: the second signal gets the default action and ends the process.
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int InterruptGuard::signal_received() const { return g_signal; }

std::string signal_name(int signal_number) {
  if (signal_number == SIGINT) return "SIGINT";
  if (signal_number == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal_number);
}

}  // namespace neuralom
