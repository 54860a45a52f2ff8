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

}  // namespace neuralom::app
