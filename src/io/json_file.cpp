#include "neuralom/io/json_file.h"

#include <nlohmann/json.hpp>

#include "neuralom/io/output_file.h"

namespace neuralom {

std::string json_text(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_json_file(const std::string& path, const nlohmann::ordered_json& value, int indent) {
  write_text_file(path, json_text(value, indent) + "\n");
}

}  // namespace neuralom
