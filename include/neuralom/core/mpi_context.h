// The processes of a run: this one alone, or the ranks of an MPI job started by mpirun or srun.
//
// A process started by a launcher (the environment holds OMPI_COMM_WORLD_SIZE, PMIX_RANK or
// PMI_SIZE) joins the job's MPI_COMM_WORLD; any other process is a job of one and never touches MPI,
// so that the binary runs as usual without mpirun. Only the thread that created the context calls
// MPI (MPI_THREAD_FUNNELED). MPI is compiled in with the CMake option NEURALOM_WITH_MPI; without
// it a job of one is all there is.
//
// Errors: every rank must reach the same collective calls in the same order. Work that may throw
// on one rank runs inside run_collectively(), after which all ranks either go on or throw together
// (a PeerError carrying the first failing rank's message and exit code, printed by rank 0 only).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace neuralom {

class MpiContext {
 public:
  /// Joins the job this process was started in (MPI_Init_thread when launched by mpirun/srun).
  /// Throws ConfigError when launched with more than one rank by a build without MPI.
  MpiContext(int* argc, char*** argv);
  /// A job of one that never initialises MPI (tests, `neuralom merge`).
  MpiContext();
  ~MpiContext();  ///< MPI_Finalize, if this context initialised MPI
  MpiContext(const MpiContext&) = delete;
  MpiContext& operator=(const MpiContext&) = delete;

  /// True if this build can run under mpirun (NEURALOM_WITH_MPI).
  static bool compiled_with_mpi();

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Rank and number of ranks on this node (MPI_Comm_split_type shared): picks the GPU.
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }

  /// Collective. Returns if no rank failed; otherwise throws on every rank a PeerError with the
  /// message ("rank R: ..." in a job of several) and exit code of the lowest failing rank, printed
  /// by rank 0 only. In a job of one, rethrows `local_error` itself.
  void agree(std::exception_ptr local_error);

  /// Runs `work` on this rank, then agree()s on the outcome.
  template <typename Work>
  void run_collectively(Work&& work) {
    std::exception_ptr error;
    try {
      std::forward<Work>(work)();
    } catch (...) {
      error = std::current_exception();
    }
    agree(error);
  }

  /// Collective: the sum over ranks.
  int64_t sum(int64_t value);
  /// Collective: `bytes` of rank `root` on every rank. Any size: moved in chunks of at most 1 GiB
  /// (MPI counts are ints; NEURALOM_MPI_CHUNK_BYTES sets a smaller chunk, for the tests).
  void broadcast(std::string& bytes, int root = 0);
  /// Collective: every rank's `bytes` on `root`, in rank order (empty elsewhere). Any size, as broadcast().
  std::vector<std::string> gather(const std::string& bytes, int root = 0);
  /// Collective.
  void barrier();

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  bool initialised_ = false;  // this context called MPI_Init_thread
  int64_t chunk_bytes_ = 0;   // the most bytes one MPI call moves, rank 0's choice on every rank
};

/// The MPI library's version line (MPI_Get_library_version), first line only; "" without MPI.
/// Never throws.
std::string mpi_library_version();

/// True if the environment says a launcher (mpirun, srun) started this process as one of
/// `*ranks` > 1 processes. Never throws.
bool launched_by_mpi(int* ranks);

}  // namespace neuralom
