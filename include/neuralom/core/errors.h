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

}  // namespace neuralom
