// run.json: what a run was — versions, the resolved settings, the models' metadata, SHA-256s of the
// model and data files, the BLAS in use, timings and the outputs written — so that a result can be
// traced to exactly the inputs and build that produced it.
#pragma once

#include <future>
#include <map>
#include <string>

#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"

namespace neuralom {

/// The current UTC time as run.json and the NetCDF history record it: "2026-11-30T18:03:17Z".
std::string utc_timestamp();

class RunProvenance {
 public:
  /// Starts hashing the plan's model files, and its data files unless `hash_data` is off, on
  /// background threads, so that the digests are ready when the run ends. `plan` must outlive this.
  explicit RunProvenance(const RunPlan& plan);
  ~RunProvenance();  ///< waits for hashing still under way
  RunProvenance(const RunProvenance&) = delete;
  RunProvenance& operator=(const RunProvenance&) = delete;

  /// Writes run.json to `path` atomically (a file that cannot be hashed is recorded as
  /// "unavailable: <reason>"). `report.files` are listed as the run's outputs. Throws OutputError.
  void write(const std::string& path, const RunReport& report);

 private:
  const RunPlan& plan_;
  std::map<std::string, std::future<std::string>> hashes_;  // path -> hex digest
};

}  // namespace neuralom
