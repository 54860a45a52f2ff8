// Logging set-up. Logs go to stderr through spdlog; stdout is reserved for results.
#pragma once

#include <string>

namespace neuralom {

/// Installs the default stderr logger (idempotent) and sets its level.
///
/// `level` is one of trace, debug, info, warn, error, critical, off. An empty `level` takes the
/// environment variable NEURALOM_LOG_LEVEL, else "info". Throws ConfigError on an unknown name.
///
/// `rank` > 0 (an MPI rank other than 0): at most warnings and errors, each line prefixed with
/// "[rank N]", so that the logs and progress of a job come from rank 0.
void init_logging(const std::string& level = "", int rank = 0);

}  // namespace neuralom
