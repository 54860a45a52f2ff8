// `neuralom`: the command-line front end. It only dispatches to subcommands and turns exceptions
// into exit codes (see neuralom/core/errors.h); all logic lives in the neuralom library.
#include <execinfo.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "commands.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/version.h"
#include "neuralom/model/torch_compat.h"

namespace {

constexpr const char* kUsage =
    "usage: neuralom <command> [options]\n"
    "\n"
    "commands:\n"
    "  simulate    run NeuralOM forced by the atmospheric fields of the data (the reference's simulation mode)\n"
    "  forecast    run NeuralOM forced by an AI atmosphere model (the reference's forecasting mode)\n"
    "  merge       combine the output directories of a run's shards (--shard K/N) into its final outputs\n"
    "  bench       time a run: per-stage seconds per day-step, throughput, memory, I/O wait\n"
    "  info        version, LibTorch, CUDA devices, threads and BLAS in use\n"
    "\n"
    "Run `neuralom <command> --help` for the options of a command. simulate and forecast also run as the\n"
    "ranks of an MPI job: mpirun -np N neuralom simulate ...\n"
    "Options: --version, --help\n";

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::cout << kUsage;
    return argc < 2 ? neuralom::kExitBadInput : neuralom::kExitOk;
  }
  const std::string command = argv[1];
  // The rollout runs on this thread, and LibTorch's warning handler is per thread.
  neuralom::torch_compat::route_warnings_to_log();
  if (command == "--version" || command == "version") {
    std::cout << neuralom::version_line() << "\n";
    return neuralom::kExitOk;
  }
  if (command == "info") return neuralom::app::run_info(argc - 1, argv + 1);
  if (command == "simulate") return neuralom::app::run_simulate(argc - 1, argv + 1);
  if (command == "forecast") return neuralom::app::run_forecast(argc - 1, argv + 1);
  if (command == "bench") return neuralom::app::run_bench(argc - 1, argv + 1);
  if (command == "merge") return neuralom::app::run_merge(argc - 1, argv + 1);
  std::cerr << "neuralom: unknown command '" << command << "'\n\n" << kUsage;
  return neuralom::kExitBadInput;
}

// A crash (a bug in neuralom, LibTorch or a driver) ends the process as it would anyway, with the
// signal, but first writes the stack to stderr, so that a report can say where it happened. Only
// async-signal-safe calls (write, backtrace_symbols_fd) after the first backtrace(), which is
// warmed up beforehand so that it does not load libgcc in the handler.
extern "C" void report_crash(int signal_number) {
  static const char kHead[] = "\nneuralom: fatal signal ";
  static const char kTail[] = "; this is a bug, please report it with the backtrace below\n";
  char digits[4] = {static_cast<char>('0' + signal_number / 10 % 10), static_cast<char>('0' + signal_number % 10)};
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, kHead, sizeof(kHead) - 1);
  n = ::write(STDERR_FILENO, digits, 2);
  n = ::write(STDERR_FILENO, kTail, sizeof(kTail) - 1);
  void* frames[64];
  const int count = ::backtrace(frames, 64);
  ::backtrace_symbols_fd(frames, count, STDERR_FILENO);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void install_crash_report() {
#ifndef NEURALOM_SANITIZED  // the sanitizers' own reports are better, and need their handlers
  void* warm[1];
  ::backtrace(warm, 1);
  static char alternate_stack[1 << 16];  // a stack overflow's SIGSEGV needs a stack of its own
  stack_t ss{};
  ss.ss_sp = alternate_stack;
  ss.ss_size = sizeof(alternate_stack);
  ::sigaltstack(&ss, nullptr);
  struct sigaction action {};
  action.sa_handler = report_crash;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_ONSTACK | SA_RESETHAND;
  for (const int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) ::sigaction(sig, &action, nullptr);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  install_crash_report();
  // Past `ulimit -f` a write would kill the process with SIGXFSZ, leaving its temporary files
  // behind; ignored, the write fails with EFBIG and the run ends with an OutputError, cleaned up.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return dispatch(argc, argv);
  } catch (const neuralom::Error& e) {
    // In an MPI job every rank stops with the error; rank 0 alone prints it.
    if (e.print_here()) std::cerr << "neuralom: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "neuralom: internal error: " << e.what() << "\n";
    return neuralom::kExitInternal;
  }
}
