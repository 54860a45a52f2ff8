#include "neuralom/core/log.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"

namespace neuralom {

void init_logging(const std::string& level, int rank) {
  std::string name = level;
  if (name.empty()) {
    const char* env = std::getenv("NEURALOM_LOG_LEVEL");
    name = (env != nullptr && *env != '\0') ? env : "info";
  }
  const auto parsed = spdlog::level::from_str(name);
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (parsed == spdlog::level::off && name != "off") {
    throw ConfigError("unknown log level '" + name +
                      "' (expected trace, debug, info, warn, error, critical or off)");
  }
  if (spdlog::get("neuralom") == nullptr) {
    auto logger = spdlog::stderr_color_mt("neuralom");
    logger->set_pattern("[%H:%M:%S] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
  }
  if (rank > 0) {
    spdlog::get("neuralom")->set_pattern("[%H:%M:%S] [rank " + std::to_string(rank) + "] [%^%l%$] %v");
    spdlog::set_level(std::max(parsed, spdlog::level::warn));
    return;
  }
  spdlog::set_level(parsed);
}

}  // namespace neuralom
