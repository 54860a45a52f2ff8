// neuralom.json as scripts/export_torchscript.py writes it, parsed with nlohmann-json: the fields
// the engine reads, and the messages for metadata it cannot use — malformed, absurd or
// self-contradictory (several of these were found by the model_metadata fuzz target).
#include "neuralom/model/model_metadata.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_message.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

/// A stage-1 description in the exporter's layout, with `extra` spliced in before the last key.
std::string stage1_json(const std::string& extra = "") {
  return R"({
  "format": "neuralom-model",
  "format_version": 1,
  "model": "stage1",
  "reference_class": "MIGraph",
  "in_channels": 101,
  "out_channels": 93,
  "grid": [360, 720],
  "mesh_level": 5,
  "hidden_dim": 432,
  "processor_layers": 16,
  "local_refinement": null,
  "graph": {"grid_nodes": 259200, "mesh_nodes": 10242},
  "parameters": 12345678,
  "checkpoint": "exp/best_ckpt.tar",
  "checkpoint_sha256": "ab12",
  "random_init_seed": null,
  "torch_version": "1.13.1",
  "exporter_version": "0.1.0",)" +
         extra + R"(
  "forcing_channels_per_day": 4
})";
}

/// `text` with its first `from` replaced by `to`.
std::string edited(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

/// One edit of stage1_json() and what the message then says (all of it, or a part).
struct Edit {
  const char* from;
  const char* to;
  const char* expected;
};

std::string message_of(const std::string& json) {
  return testing::error_message<ModelError>([&] { parse_model_metadata(json, "m.pt"); });
}

TEST(ModelMetadataTest, ReadsTheExportersFields) {
  const ModelMetadata m = parse_model_metadata(stage1_json(), "m.pt");
  EXPECT_EQ(m.path, "m.pt");
  EXPECT_EQ(m.model, "stage1");
  EXPECT_EQ(m.reference_class, "MIGraph");
  EXPECT_EQ(m.in_channels, 101);
  EXPECT_EQ(m.out_channels, 93);
  EXPECT_EQ(m.height, 360);
  EXPECT_EQ(m.width, 720);
  EXPECT_EQ(m.mesh_level, 5);
  EXPECT_EQ(m.hidden_dim, 432);
  EXPECT_EQ(m.processor_layers, 16);
  EXPECT_EQ(m.parameters, 12345678);
  EXPECT_EQ(m.forcing_channels_per_day, 4);
  EXPECT_EQ(m.checkpoint, "exp/best_ckpt.tar");
  EXPECT_EQ(m.checkpoint_sha256, "ab12");
  EXPECT_EQ(m.torch_version, "1.13.1");
  EXPECT_EQ(m.exporter_version, "0.1.0");
  EXPECT_EQ(m.json, stage1_json());
  EXPECT_EQ(m.summary(), "stage1 (MIGraph, 101->93 channels, 360x720, mesh level 5, hidden 432, 16 layers)");
}

TEST(ModelMetadataTest, DescribesTheGraphProvenance) {
  // An archive from before provenance was recorded has counts only: nothing to describe.
  EXPECT_EQ(parse_model_metadata(stage1_json(), "m.pt").graph_provenance, "");
  std::string json = stage1_json();
  const std::string counts = R"("graph": {"grid_nodes": 259200, "mesh_nodes": 10242},)";
  json.replace(json.find(counts), counts.size(),
               R"("graph": {"grid_nodes": 259200, "mesh_nodes": 10242, "mesh_edges": 81900,
                  "g2m_edges": 403596, "m2g_edges": 777600, "method": "reference",
                  "index_sha256": "0123456789abcdef0123"},)");
  EXPECT_EQ(parse_model_metadata(json, "m.pt").graph_provenance,
            "reference arithmetic, indices sha256 0123456789ab…, 10242 mesh nodes, "
            "81900 mesh / 403596 g2m / 777600 m2g edges");
}

TEST(ModelMetadataTest, AtmosphereModelsNeedSubstepsAndForcingChannels) {
  const std::string atmos = R"({"format": "neuralom-model", "format_version": 1, "model": "atmos",
    "reference_class": "OneForecast", "in_channels": 69, "out_channels": 69, "grid": [120, 240],
    "mesh_level": 5, "hidden_dim": 512, "processor_layers": 16, "substeps_per_day": 4,
    "forcing_channels": [65, 66, 67, 68]})";
  const ModelMetadata m = parse_model_metadata(atmos, "a.pt");
  EXPECT_EQ(m.substeps_per_day, 4);
  EXPECT_EQ(m.forcing_channels, (std::vector<int64_t>{65, 66, 67, 68}));
  EXPECT_EQ(m.checkpoint, "");  // absent text fields are empty

  EXPECT_EQ(message_of(edited(atmos, "[65, 66, 67, 68]", "[65, 69]")),
            "m.pt: forcing channel 69 is outside the model's 69 output channels");
  EXPECT_EQ(message_of(edited(atmos, "[65, 66, 67, 68]", "[]")),
            "m.pt: neuralom.json of an atmosphere model needs 'forcing_channels'");
  EXPECT_NE(message_of(edited(atmos, "\"substeps_per_day\": 4", "\"substeps_per_day\": 0")).find("substeps_per_day = 0"),
            std::string::npos);
}

TEST(ModelMetadataTest, RejectsWhatIsNotExporterMetadata) {
  EXPECT_NE(message_of("{\"format\": ").find("m.pt: neuralom.json is not valid JSON: "), std::string::npos);
  EXPECT_EQ(message_of("[1, 2]"), "m.pt: neuralom.json is not a JSON object");
  EXPECT_EQ(message_of(R"({"format": "other"})"),
            "m.pt: neuralom.json has format 'other', expected 'neuralom-model' (was this file written by "
            "scripts/export_torchscript.py?)");
  EXPECT_EQ(message_of(R"({"format": "neuralom-model", "format_version": 2})"),
            "m.pt: neuralom.json format_version 2 is not supported by this build (expected 1); re-export the model");
}

TEST(ModelMetadataTest, MissingAndMistypedFieldsNameTheField) {
  const Edit cases[] = {
      {"\"mesh_level\": 5", "\"mesh_level\": null", "m.pt: neuralom.json has no 'mesh_level'"},
      {"\"hidden_dim\": 432", "\"hidden_dim\": 432.5", "m.pt: neuralom.json field 'hidden_dim' is not an integer"},
      {"\"in_channels\": 101", "\"in_channels\": \"101\"", "m.pt: neuralom.json field 'in_channels' is not an integer"},
      {"[360, 720]", "[360]", "m.pt: neuralom.json field 'grid' must be [rows, columns]"},
      {"[360, 720]", "[360, 7.5]", "m.pt: neuralom.json field 'grid' is not an integer"},
      {"\"stage1\"", "\"stage3\"", "m.pt: neuralom.json has model 'stage3', expected stage1, stage2 or atmos"},
  };
  for (const auto& c : cases) EXPECT_EQ(message_of(edited(stage1_json(), c.from, c.to)), c.expected) << c.to;
}

TEST(ModelMetadataTest, IcosphereNodeCounts) {
  EXPECT_EQ(icosphere_nodes(0), 12);
  EXPECT_EQ(icosphere_nodes(3), 642);
  EXPECT_EQ(icosphere_nodes(5), 10242);
  EXPECT_EQ(icosphere_nodes(kMaxMeshLevel), 167772162);
}

TEST(ModelMetadataTest, NumberBeyondDoubleIsAModelError) {
  // nlohmann's out_of_range (not a parse_error) escaped as an "internal error" (found by fuzzing).
  EXPECT_NE(message_of(edited(stage1_json(), "\"in_channels\": 101", "\"in_channels\": 1e711"))
                .find("m.pt: neuralom.json is not valid JSON: "),
            std::string::npos);
  EXPECT_NE(message_of(R"({"format": 80e9448})").find("not valid JSON"), std::string::npos);
}

TEST(ModelMetadataTest, RefusesAbsurdSizes) {
  const Edit cases[] = {
      {"[360, 720]", "[1000000000, 1000000000]", "declares grid rows = 1000000000, outside 1..1048576"},
      {"[360, 720]", "[1048576, 1048576]", "grid points (rows x columns) = 1099511627776"},
      {"\"in_channels\": 101", "\"in_channels\": 1099511627776", "in_channels = 1099511627776"},
      {"\"in_channels\": 101", "\"in_channels\": 9223372036854775813", "field 'in_channels' is too large"},
      {"\"mesh_level\": 5", "\"mesh_level\": -3", "mesh_level = -3"},
      {"\"hidden_dim\": 432", "\"hidden_dim\": 0", "hidden_dim = 0"},
      {"\"processor_layers\": 16", "\"processor_layers\": 100000", "processor_layers = 100000"},
      {"\"parameters\": 12345678", "\"parameters\": -1", "parameters = -1"},
  };
  for (const auto& c : cases) {
    EXPECT_NE(message_of(edited(stage1_json(), c.from, c.to)).find(c.expected), std::string::npos) << c.to;
  }
}

TEST(ModelMetadataTest, RefusesContradictions) {
  // The mesh's recorded node count is that of its level (10242 at level 5, 2562 at level 4).
  EXPECT_EQ(message_of(edited(stage1_json(), "\"mesh_level\": 5", "\"mesh_level\": 4")),
            "m.pt: neuralom.json says mesh level 4 (2562 nodes) but records a mesh of 10242 nodes");
  // A locally refined mesh has more nodes than its base level, never fewer.
  EXPECT_NO_THROW(parse_model_metadata(
      edited(stage1_json(), "\"local_refinement\": null", "\"local_refinement\": [{\"splits\": 1}]"), "m.pt"));
  EXPECT_NE(message_of(edited(edited(stage1_json(), "\"local_refinement\": null", "\"local_refinement\": [{}]"),
                              "\"mesh_nodes\": 10242", "\"mesh_nodes\": 100"))
                .find("before refinement"),
            std::string::npos);
  EXPECT_EQ(message_of(edited(stage1_json(), "\"forcing_channels_per_day\": 4", "\"forcing_channels_per_day\": 3")),
            "m.pt: neuralom.json says 3 forcing channels per day, but its channels 101 -> 93 imply 4");
  for (const char* in : {"\"in_channels\": 100", "\"in_channels\": 93"}) {
    EXPECT_NE(message_of(edited(stage1_json(), "\"in_channels\": 101", in)).find("ocean + 2 x forcing"),
              std::string::npos)
        << in;
  }
}

TEST(ModelMetadataTest, NewerTorchComparesMajorThenMinor) {
  EXPECT_TRUE(exported_with_newer_torch("2.14.1+cu130", "1.13.0"));
  EXPECT_TRUE(exported_with_newer_torch("1.14.0", "1.13.0"));
  EXPECT_TRUE(exported_with_newer_torch("2.10.0", "2.9.1"));  // numeric, not lexical
  EXPECT_FALSE(exported_with_newer_torch("1.13.0a0", "1.13.0"));
  EXPECT_FALSE(exported_with_newer_torch("1.13.1", "1.13.0"));  // patch releases read each other
  EXPECT_FALSE(exported_with_newer_torch("1.13.0", "2.14.1"));
  EXPECT_FALSE(exported_with_newer_torch("2.9.1", "2.10.0"));
}

TEST(ModelMetadataTest, NewerTorchIsFalseForUnparseableVersions) {
  for (const char* version : {"", "nightly", "2", "2.x", "99999999999999999999.1"}) {
    EXPECT_FALSE(exported_with_newer_torch(version, "1.13.0")) << version;
  }
  EXPECT_FALSE(exported_with_newer_torch("2.14.1", ""));
}

}  // namespace
}  // namespace neuralom
