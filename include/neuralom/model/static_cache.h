// How much of a network's input-independent graph work is computed once at load and kept
// (the exporter's static cache, scripts/neuralom_export/network.py), trading memory for speed.
//
//   full   every static term: fastest; at full size (360x720, mesh 5, hidden 432) ~2.2 GiB per
//          ocean stage.
//   light  every term but the mesh-to-grid edge projections, which the decoder recomputes on each
//          call (one extra pass over those edges): ~0.9 GiB per ocean stage at full size. Results
//          are bit-for-bit those of `full` (each edge chunk is computed the same way).
//   off    nothing cached; everything is recomputed on each call.
//   auto   light on the CPU, full on CUDA (the default; see docs/performance.md).
//
// Archives exported before the light cache existed have no `build_light_static_cache`; for them
// `light` falls back to `full`, with a warning that says to re-export.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace neuralom {

enum class StaticCache { kAuto, kOff, kLight, kFull };

/// "auto" / "off" / "light" / "full".
const char* static_cache_name(StaticCache cache);

/// Parses "auto", "off", "light" and "full" (any case), and the boolean spellings the setting took
/// before it had a light level: on/true/yes/1 (= full) and off/false/no/0. Throws ConfigError
/// naming `origin` and the accepted values otherwise.
StaticCache parse_static_cache(const std::string& text, const std::string& origin);

/// `cache` with kAuto resolved for `device`: kLight on the CPU, kFull elsewhere.
StaticCache resolve_static_cache(StaticCache cache, const c10::Device& device);

}  // namespace neuralom
