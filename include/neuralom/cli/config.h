// Configuration files: neuralom's own YAML run files (`--config-file`) and the reference's
// experiment layout (`--exp-dir ./exp --config NeuralOM --run-num ... --finetune-dir ...`).
#pragma once

#include <string>

#include "neuralom/cli/settings.h"

namespace neuralom {

/// Loads a YAML run configuration into a settings layer. `section` selects a top-level mapping
/// (as the reference's `NeuralOM:` section); empty = the whole file. YAML merge keys
/// (`<<: *anchor`) are resolved. Relative paths are relative to the file's directory.
/// Unknown keys are reported as warnings (keys of the reference's training configuration are
/// ignored silently). Throws ConfigError (missing file, YAML syntax, missing section).
SettingsLayer load_config_file(const std::string& path, const std::string& section = "");

/// The reference's way of naming a run.
struct ReferenceExperiment {
  std::string exp_dir = "./exp";
  std::string config = "NeuralOM";
  std::string run_num;
  std::string finetune_dir;

  /// <exp_dir>/<config>/<run_num>/config.yaml
  std::string config_path() const;
  /// <exp_dir>/<config>/<run_num>[/<finetune_dir>]: where checkpoints and results live.
  std::string experiment_dir() const;
};

/// Reads the experiment's config.yaml (section `config`) the way the reference's inference
/// scripts do: data paths relative to the working directory, the channel lists and variable
/// names, the climatology at ./data/climate_mean_s_t_ssh.npy; stage models expected next to the
/// checkpoints as best_ckpt.pt (training_checkpoints/ and model2/10_steps_finetune/
/// training_checkpoints/), the atmosphere model in training_checkpoints_atmos/; outputs written
/// to the experiment directory. The config's `prediction_length` is ignored (the reference's
/// scripts override it with 61). Throws ConfigError.
SettingsLayer load_reference_experiment(const ReferenceExperiment& experiment);

}  // namespace neuralom
