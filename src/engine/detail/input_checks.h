// The input checks behind plan_run(): each validates one part of a run against the files it names
// and records in the plan what it resolved. Messages name the file, dataset or setting at fault,
// what was expected and what was found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/run_settings.h"

namespace neuralom::detail {

/// in_channels, ocean_channels, atmos_channels, out_channels and out_variables fit each other.
/// Throws ConfigError.
void validate_channels(const RunSettings& settings);

/// The stage models exist, are stage models and chain (stage 1: ocean + 2 x forcing -> ocean;
/// later stages: ocean -> ocean on the same grid). Sets plan.stages, height and width.
/// Throws ConfigError or ModelError.
void validate_stages(RunPlan& plan);

/// The ocean file (resolved from test_file or test_data_path + year), statistics, climatology and
/// land mask fit the channels and the stages' grid. Sets plan.ocean_file, ocean_shape,
/// climatology_file, climatology_shape and days_available. Needs validate_stages() first.
/// Throws ConfigError or InputError.
void validate_ocean_data(RunPlan& plan);

/// Every initial condition is unique and its prediction_length days are available.
/// Needs validate_ocean_data() first. Throws ConfigError or InputError.
void validate_ics(const RunPlan& plan);

/// Forecast mode: the atmosphere model, its data file and statistics fit stage 1's forcing and
/// cover the initial conditions. Sets plan.atmos, atmos_* fields. Needs the checks above first.
/// Throws ConfigError, InputError or ModelError.
void validate_atmosphere(RunPlan& plan);

/// "1, 2, 3" (with `sep` between the values), for messages and the plan's description.
std::string join(const std::vector<int64_t>& values, const char* sep = ", ");

}  // namespace neuralom::detail
