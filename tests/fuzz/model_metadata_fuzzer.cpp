// Fuzz target: the model metadata parser (model/model_metadata): the `neuralom.json` text the
// exporter stores in every TorchScript archive, which the engine checks against the data before
// it computes anything. Malformed JSON, wrong types, out-of-range and absurd values must all end
// in a ModelError; a metadata object that is accepted must describe a model the engine can plan.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "fuzz_support.h"
#include "neuralom/model/model_metadata.h"

using namespace neuralom;

namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz: accepted metadata %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  try {
    const ModelMetadata m = parse_model_metadata(json, "fuzz.pt");
    (void)m.summary();
    if (m.in_channels <= 0 || m.out_channels <= 0 || m.height <= 0 || m.width <= 0) {
      finding("with non-positive sizes");
    }
    if (m.model != "stage1" && m.model != "stage2" && m.model != "atmos") finding("of an unknown kind");
    if (m.model == "atmos" && (m.substeps_per_day <= 0 || m.forcing_channels.empty())) {
      finding("of an atmosphere model without sub-steps or forcing channels");
    }
    for (const int64_t c : m.forcing_channels) {
      if (c < 0 || c >= m.out_channels) finding("with a forcing channel outside the outputs");
    }
  } catch (const Error&) {
    // Refused with a message.
  }
  return 0;
}
