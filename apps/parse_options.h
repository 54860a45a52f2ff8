// Parsing a subcommand's flags with cxxopts: its errors become ConfigError (exit code 2) pointing
// at the subcommand's --help.
#pragma once

#include <string>

#include <cxxopts.hpp>

#include "neuralom/core/errors.h"

namespace neuralom::app {

inline cxxopts::ParseResult parse_options(cxxopts::Options& options, int argc, char** argv) {
  try {
    return options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw ConfigError(std::string(e.what()) + " (see `" + options.program() + " --help`)");
  }
}

/// The value of option `name`, or `fallback` where it was not given.
template <typename T>
T option_or(const cxxopts::ParseResult& args, const std::string& name, T fallback) {
  return args.count(name) != 0U ? args[name].as<T>() : fallback;
}

}  // namespace neuralom::app
