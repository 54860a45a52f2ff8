#include "neuralom/model/static_cache.h"

#include <algorithm>
#include <cctype>

#include "neuralom/core/errors.h"

namespace neuralom {

const char* static_cache_name(StaticCache cache) {
  switch (cache) {
    case StaticCache::kOff:
      return "off";
    case StaticCache::kLight:
      return "light";
    case StaticCache::kFull:
      return "full";
    case StaticCache::kAuto:
      break;
  }
  return "auto";
}

StaticCache parse_static_cache(const std::string& text, const std::string& origin) {
  std::string v = text;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "auto") return StaticCache::kAuto;
  if (v == "light") return StaticCache::kLight;
  // The boolean spellings are what the setting accepted before it had a light level.
  if (v == "full" || v == "on" || v == "true" || v == "yes" || v == "1") return StaticCache::kFull;
  if (v == "off" || v == "false" || v == "no" || v == "0") return StaticCache::kOff;
  throw ConfigError(origin + ": unknown static cache '" + text + "' (expected auto, light, full or off)");
}

StaticCache resolve_static_cache(StaticCache cache, const c10::Device& device) {
  if (cache != StaticCache::kAuto) return cache;
  return device.is_cpu() ? StaticCache::kLight : StaticCache::kFull;
}

}  // namespace neuralom
