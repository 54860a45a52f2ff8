// run.json: what a run was — versions, the resolved settings, the models' metadata, SHA-256s of the
// model and data files, the BLAS in use, timings and the outputs written — so that a result can be
// traced to exactly the inputs and build that produced it.
#pragma once

#include <future>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"

namespace neuralom {

/// The current UTC time as run.json and the NetCDF history record it: "2026-11-30T18:03:17Z".
std::string utc_timestamp();

/// One input file of a run and what it is ("stage 1 model", "ocean data", "land mask", ...).
struct RunInput {
  std::string role;
  std::string path;
  bool always_hashed = false;  ///< models and a threshold file (small); data files unless --no-data-hash
};

/// The model and data files a plan reads, models first.
std::vector<RunInput> run_inputs(const RunPlan& plan);

/// `path` absolute and lexically normal: how a journal names the files a run read. Never throws
/// (`path` itself if the working directory cannot be found).
std::string journal_path(const std::string& path);

class RunProvenance {
 public:
  /// Starts hashing the plan's model files, and its data files unless `hash_data` is off, on
  /// background threads, so that the digests are ready when the run ends. Files in `known` (path →
  /// digest, e.g. from a journal) are not hashed again. `plan` must outlive this.
  explicit RunProvenance(const RunPlan& plan, const std::map<std::string, std::string>& known = {});
  ~RunProvenance();  ///< waits for hashing still under way
  RunProvenance(const RunProvenance&) = delete;
  RunProvenance& operator=(const RunProvenance&) = delete;

  /// The digest of one of the hashed files, waiting for it; "" if it is not hashed. Throws
  /// InputError if it cannot be read.
  std::string digest(const std::string& path) const;
  /// The digests computed so far (path → hex), without waiting. Never throws.
  std::map<std::string, std::string> ready_digests() const { return digests(/*wait=*/false); }
  /// Every digest, waiting for those still being computed; unreadable files are left out. Never throws.
  std::map<std::string, std::string> all_digests() const { return digests(/*wait=*/true); }

  /// Writes run.json to `path` atomically (a file that cannot be hashed is recorded as
  /// "unavailable: <reason>"). `report.files` are listed as the run's outputs; `extra` entries are
  /// added at the top level (e.g. how the run was split). Throws OutputError.
  void write(const std::string& path, const RunReport& report, const nlohmann::ordered_json* extra = nullptr);

 private:
  std::map<std::string, std::string> digests(bool wait) const;

  const RunPlan& plan_;
  std::map<std::string, std::shared_future<std::string>> hashes_;  // path -> hex digest
};

}  // namespace neuralom
