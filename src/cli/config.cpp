#include "neuralom/cli/config.h"

#include <cstdint>
#include <filesystem>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

// Keys neuralom reads from a configuration file.
const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys{
      "data_dir", "year", "test_data_path", "test_file", "land_mask_path", "global_means_path", "global_stds_path",
      "climate_mean_path", "test_data_path_atmos", "atmos_file", "global_means_path_atmos", "global_stds_path_atmos",
      "stages", "atmos_model", "prediction_length", "ics", "in_channels", "ocean_channels", "atmos_channels",
      "out_channels", "out_variables", "atmos_time_offset", "atmos_steps_per_day", "atmos_substeps",
      "atmos_forcing_channels", "output_dir", "save_fields", "save_channels", "save_leads", "compression",
      "baselines", "format", "anomalies", "save_truth", "latitude_start", "latitude_step", "longitude_start",
      "longitude_step", "depths", "extremes", "extreme_variables", "extreme_quantiles", "extreme_thresholds", "overwrite", "hash_data", "batch", "device", "threads", "static_cache", "edge_chunk", "host_cache", "prefetch",
      "on_nonfinite", "log_level", "precision", "cuda_graphs", "deterministic", "decode_land", "fused_kernels",
      "cuda_fused_kernels"};
  return keys;
}

// Keys of the reference's training/inference configuration that have no meaning here.
const std::set<std::string>& reference_only_keys() {
  static const std::set<std::string> keys{
      "num_data_workers", "dt", "n_history", "ics_type", "exp_dir", "train_data_path", "valid_data_path",
      "land_mask", "normalize", "normalization", "orography", "add_noise", "noise_std", "crop_size_x",
      "crop_size_y", "log_to_screen", "log_to_wandb", "save_checkpoint", "plot_animations", "nettype", "lr",
      "batch_size", "scheduler", "loss_channel_wise", "loss_scale", "use_loss_scaler_from_metnet3",
      "in_channels_atmos", "out_channels_atmos", "max_epochs", "finetune_dir", "run_num", "config"};
  return keys;
}

// Bounds on what a configuration may make the loader do. A run configuration is a few dozen
// keys; aliases can make a tiny file describe an exponentially large tree ("billion laughs"), and
// nesting can be deep enough to exhaust the stack. The reference's full config.yaml expands to 417
// values; 10 000 leaves room and bounds the work on a hostile file to milliseconds (at 100 000 an
// alias fan-out found by the fuzzer took 0.6 s, 3 s under ASan).
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;
constexpr int kMaxDepth = 64;
constexpr long kMaxNodes = 10000;

/// A mapping key as text. Keys are plain names; a sequence or mapping used as a key (`? [a, b]`)
/// is refused rather than converted.
std::string key_text(const YAML::Node& key, const std::string& path) {
  if (!key.IsScalar()) {
    throw ConfigError(path + ": line " + std::to_string(key.Mark().line + 1) +
                      ": a mapping key must be a plain name, not a list or mapping");
  }
  return key.Scalar();
}

// Applies YAML merge keys (`<<: *anchor` or `<<: [*a, *b]`): keys of a node itself win over merged
// ones, and earlier merged maps over later ones.
class MergeResolver {
 public:
  explicit MergeResolver(const std::string& path) : path_(path) {}

  /// A copy of `node` with every merge key applied.
  YAML::Node resolve(const YAML::Node& node, int depth = 0) {
    if (depth > kMaxDepth) fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
    if (++nodes_ > kMaxNodes) {
      fail("expands to more than " + std::to_string(kMaxNodes) + " values (aliases of aliases?)");
    }
    if (node.IsSequence()) {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : node) out.push_back(resolve(item, depth + 1));
      return out;
    }
    if (!node.IsMap()) return YAML::Clone(node);
    YAML::Node out(YAML::NodeType::Map);
    std::vector<YAML::Node> sources;
    for (const auto& kv : node) {
      const std::string key = key_text(kv.first, path_);
      if (key != "<<") {
        out[key] = resolve(kv.second, depth + 1);
      } else if (kv.second.IsSequence()) {
        for (const auto& m : kv.second) sources.push_back(m);
      } else {
        sources.push_back(kv.second);
      }
    }
    for (const auto& src : sources) {
      if (!src.IsMap()) continue;
      const YAML::Node resolved = resolve(src, depth + 1);
      for (const auto& kv : resolved) {
        const std::string key = key_text(kv.first, path_);
        if (!out[key]) out[key] = kv.second;
      }
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(path_ + ": the configuration " + what + "; a run configuration is a flat list of settings");
  }

  const std::string& path_;
  long nodes_ = 0;
};

// A scalar or a flat sequence as the layer's text form ("a,b,c").
std::string node_text(const YAML::Node& node, const std::string& where) {
  if (node.IsNull()) return "";
  if (node.IsScalar()) return node.as<std::string>();
  if (node.IsSequence()) {
    std::string out;
    for (const auto& item : node) {
      if (!item.IsScalar()) throw ConfigError(where + ": expected a list of plain values");
      if (!out.empty()) out += ",";
      out += item.as<std::string>();
    }
    return out;
  }
  throw ConfigError(where + ": expected a value or a list, found a mapping");
}

/// Refuses reference keys that would change the reference's results to something neuralom does
/// not compute: the data stride dt, a history of inputs, another normalisation, a subset or
/// reordering of the atmosphere's channels. Their reference values pass (configs copied from an
/// experiment keep them).
void check_reference_only_values(const YAML::Node& section, const std::string& path) {
  const auto refuse = [&](const char* key, const std::string& value, const std::string& supported) {
    throw ConfigError(path + ": " + key + ": " + value + " is not supported: neuralom computes the reference's " +
                      supported + " only (remove the key or set it so)");
  };
  struct Fixed {
    const char* key;
    const char* value;
    const char* meaning;
  };
  for (const Fixed& f : {Fixed{"dt", "1", " (one day per step)"},
                         Fixed{"n_history", "0", " (the current day as the only input)"},
                         Fixed{"normalization", "zscore", ""}}) {
    if (!section[f.key]) continue;
    const std::string value = node_text(section[f.key], path + ": " + f.key);
    if (value != f.value) refuse(f.key, value, std::string(f.key) + ": " + f.value + f.meaning);
  }
  for (const char* key : {"in_channels_atmos", "out_channels_atmos"}) {
    if (!section[key]) continue;
    const std::string value = node_text(section[key], path + ": " + key);
    std::string all;  // 0,1,...,n-1 for the list's length n
    for (std::size_t i = 0, n = section[key].IsSequence() ? section[key].size() : 1; i < n; ++i) {
      all += (i == 0 ? "" : ",") + std::to_string(i);
    }
    if (value != all) refuse(key, "[" + value + "]", std::string(key) + ": all of the atmosphere's channels in order");
  }
}

YAML::Node load_yaml(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError(path + ": no such configuration file");
  // Not a FIFO, a device (/dev/zero) or a directory, and not so large that reading it is a problem.
  if (!fs::is_regular_file(path, ec)) throw ConfigError(path + ": is not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxConfigBytes) {
    throw ConfigError(path + ": " + (ec ? "cannot read its size: " + ec.message()
                                        : std::to_string(size) + " bytes is too large for a configuration file"));
  }
  try {
    return MergeResolver(path).resolve(YAML::LoadFile(path));
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": invalid YAML: " + e.what());
  }
}

YAML::Node select_section(const YAML::Node& root, const std::string& path, const std::string& section) {
  if (section.empty()) return root;
  if (!root.IsMap() || !root[section] || !root[section].IsMap()) {
    std::string found;
    if (root.IsMap()) {
      for (const auto& kv : root) found += (found.empty() ? "" : ", ") + key_text(kv.first, path);
    }
    throw ConfigError(path + ": no section '" + section + "' (sections: " + (found.empty() ? "none" : found) + ")");
  }
  return root[section];
}

}  // namespace

SettingsLayer load_config_file(const std::string& path, const std::string& section) {
  const YAML::Node root = select_section(load_yaml(path), path, section);
  SettingsLayer layer;
  if (root.IsNull()) return layer;
  if (!root.IsMap()) throw ConfigError(path + ": expected a mapping of settings at the top level");
  check_reference_only_values(root, path);
  const std::string base = fs::absolute(path).parent_path().string();
  for (const auto& kv : root) {
    const std::string key = key_text(kv.first, path);
    const std::string where = path + ": " + key;
    if (known_keys().count(key) != 0) {
      layer.set(key, node_text(kv.second, where), where, base);
    } else if (reference_only_keys().count(key) == 0 && !kv.second.IsMap()) {
      spdlog::warn("{}: unknown key '{}' ignored", path, key);
    }
  }
  return layer;
}

std::string ReferenceExperiment::config_path() const {
  return (fs::path(exp_dir) / config / run_num / "config.yaml").string();
}

std::string ReferenceExperiment::experiment_dir() const {
  fs::path dir = fs::path(exp_dir) / config / run_num;
  if (!finetune_dir.empty()) dir /= finetune_dir;
  return dir.string();
}

SettingsLayer load_reference_experiment(const ReferenceExperiment& experiment) {
  if (experiment.run_num.empty()) {
    throw ConfigError("--exp-dir needs --run-num (e.g. --exp-dir ./exp --config NeuralOM --run-num 20250309-195251)");
  }
  const std::string path = experiment.config_path();
  const YAML::Node cfg = select_section(load_yaml(path), path, experiment.config);
  if (!cfg.IsMap()) throw ConfigError(path + ": section '" + experiment.config + "' is not a mapping of settings");
  check_reference_only_values(cfg, path);
  SettingsLayer layer;
  // The reference resolves these relative to the directory it is run from.
  static const char* kCopied[] = {"test_data_path", "land_mask_path", "global_means_path", "global_stds_path",
                                  "test_data_path_atmos", "global_means_path_atmos", "global_stds_path_atmos",
                                  "in_channels", "ocean_channels", "atmos_channels", "out_channels", "out_variables"};
  for (const char* key : kCopied) {
    if (cfg[key]) layer.set(key, node_text(cfg[key], path + ": " + key), path + ": " + key);
  }
  const std::string origin = "--exp-dir " + experiment.experiment_dir();
  layer.set("climate_mean_path", "./data/climate_mean_s_t_ssh.npy", origin + " (the reference's fixed path)");
  const fs::path dir(experiment.experiment_dir());
  layer.set("stages",
            (dir / "training_checkpoints" / "best_ckpt.pt").string() + "," +
                (dir / "model2" / "10_steps_finetune" / "training_checkpoints" / "best_ckpt.pt").string(),
            origin);
  layer.set("atmos_model", (dir / "training_checkpoints_atmos" / "best_ckpt.pt").string(), origin);
  layer.set("output_dir", dir.string(), origin);
  return layer;
}

}  // namespace neuralom
