// Zarr store metadata: consolidated into strict JSON whatever netCDF-C wrote for NaN fill values.
#include "neuralom/io/netcdf_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "temp_dir.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ZarrMetadata, NanFillValuesBecomeStrictJson) {
  const testing::TempDir dir;
  const fs::path store = dir.path() / "s.zarr";
  // As netCDF-C 4.9 writes them: bare NaN tokens, the attribute first, last, alone or absent.
  write(store / ".zgroup", R"({"zarr_format": 2})");
  write(store / ".zattrs", R"({"Conventions": "CF-1.8", "history": "a, } b"})");
  write(store / "t" / ".zarray", R"({"zarr_format": 2, "dtype": "<f4", "fill_value": NaN, "order": "C"})");
  write(store / "t" / ".zattrs", R"({"_FillValue": NaN, "units": "K", "_ARRAY_DIMENSIONS": ["x"]})");
  write(store / "u" / ".zarray", R"({"zarr_format": 2, "fill_value": -Infinity})");
  write(store / "u" / ".zattrs", R"({"units": "m", "_FillValue": NaN})");
  write(store / "v" / ".zarray", R"({"zarr_format": 2, "fill_value": 0})");
  write(store / "v" / ".zattrs", R"({"_FillValue": NaN})");
  consolidate_zarr_metadata(store.string());

  const auto strict = [](const fs::path& p) { return nlohmann::json::parse(read(p)); };
  EXPECT_EQ(strict(store / "t" / ".zarray")["fill_value"], "NaN");
  EXPECT_EQ(strict(store / "u" / ".zarray")["fill_value"], "-Infinity");
  EXPECT_EQ(strict(store / "v" / ".zarray")["fill_value"], 0);
  EXPECT_EQ(strict(store / "t" / ".zattrs"),
            nlohmann::json::parse(R"({"units": "K", "_ARRAY_DIMENSIONS": ["x"]})"));
  EXPECT_EQ(strict(store / "u" / ".zattrs"), nlohmann::json::parse(R"({"units": "m"})"));
  EXPECT_EQ(strict(store / "v" / ".zattrs"), nlohmann::json::object());
  // Untouched where there was nothing to change, even text that looks like a trailing comma.
  EXPECT_EQ(read(store / ".zattrs"), R"({"Conventions": "CF-1.8", "history": "a, } b"})");
  const nlohmann::json all = strict(store / ".zmetadata");
  EXPECT_EQ(all["zarr_consolidated_format"], 1);
  EXPECT_EQ(all["metadata"]["t/.zarray"]["fill_value"], "NaN");
  EXPECT_EQ(all["metadata"]["t/.zattrs"]["units"], "K");
  EXPECT_EQ(all["metadata"][".zattrs"]["history"], "a, } b");
  EXPECT_EQ(all["metadata"].size(), 8U);
}

}  // namespace
}  // namespace neuralom
