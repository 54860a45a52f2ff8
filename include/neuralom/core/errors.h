// Exception types of the neuralom library and the exit codes the CLI maps them to.
//
// The library throws; only main() catches. Messages say what failed, where (file, dataset, channel,
// initial condition, day), what was expected and what was found, and a hint where one helps.
#pragma once

#include <stdexcept>
#include <string>

namespace neuralom {

/// Process exit codes of the `neuralom` command.
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,  ///< a bug or an unexpected failure (anything not derived from neuralom::Error)
  kExitBadInput = 2,  ///< bad usage, bad input files, incompatible models, unwritable output
};

/// Base of every error the library reports on purpose. All of them mean "the user can fix this".
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  /// The exit code the CLI uses for this error.
  virtual int exit_code() const noexcept { return kExitBadInput; }
  /// False where another process prints this error (the ranks of an MPI run other than rank 0).
  virtual bool print_here() const noexcept { return true; }
};

/// Bad command line or configuration file.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A data file, dataset, statistics file or mask is missing or does not have the expected layout.
class InputError : public Error {
 public:
  using Error::Error;
};

/// A model file cannot be loaded or does not fit the data (channels, grid).
class ModelError : public Error {
 public:
  using Error::Error;
};

/// A model produced NaN or Inf.
class NumericalError : public Error {
 public:
  using Error::Error;
};

/// An output file or directory cannot be written.
class OutputError : public Error {
 public:
  using Error::Error;
};

/// SIGINT or SIGTERM asked the run to stop (core/interrupt.h). The exit code is 128 + the signal
/// number, as a shell reports a process ended by that signal (130 for SIGINT, 143 for SIGTERM).
class Interrupted : public Error {
 public:
  Interrupted(const std::string& message, int signal_number) : Error(message), signal_(signal_number) {}
  int exit_code() const noexcept override { return 128 + signal_; }
  int signal_number() const noexcept { return signal_; }

 private:
  int signal_;
};

/// The error of one rank of an MPI run, raised on every rank so that all of them stop together
/// (core/mpi_context.h). It carries the failing rank's message and exit code; only rank 0 prints it.
class PeerError : public Error {
 public:
  PeerError(const std::string& message, int exit_code, bool print_here)
      : Error(message), exit_code_(exit_code), print_here_(print_here) {}
  int exit_code() const noexcept override { return exit_code_; }
  bool print_here() const noexcept override { return print_here_; }

 private:
  int exit_code_;
  bool print_here_;
};

}  // namespace neuralom
