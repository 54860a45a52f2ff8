#include "neuralom/core/mpi_context.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <tuple>

#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"

#if NEURALOM_WITH_MPI
// The C API only: OpenMPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace neuralom {
namespace {

/// The integer value of an environment variable, or 0.
int env_int(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : 0;
}

/// The message and exit code of a captured exception.
std::pair<std::string, int> describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return {e.what(), e.exit_code()};
  } catch (const std::exception& e) {
    return {std::string("internal error: ") + e.what(), kExitInternal};
  } catch (...) {
    return {"internal error: unknown exception", kExitInternal};
  }
}

#if NEURALOM_WITH_MPI
/// The most bytes one MPI call moves: MPI counts are ints, and a run's batch records can pass 2 GiB
/// (hundreds of kilobytes per initial condition). NEURALOM_MPI_CHUNK_BYTES lowers it, for the tests
/// (rank 0's value: the constructor shares it).
int chunk_bytes() {
  constexpr int kDefault = 1 << 30;
  const char* value = std::getenv("NEURALOM_MPI_CHUNK_BYTES");
  if (value == nullptr) return kDefault;
  const long long n = std::atoll(value);
  return n >= 1 && n <= kDefault ? static_cast<int>(n) : kDefault;
}

/// Calls move(offset, count) for each piece of at most `chunk` bytes of `length`, in order; returns
/// how many pieces there were.
template <typename Move>
int64_t in_chunks(int64_t length, int64_t chunk, Move move) {
  int64_t pieces = 0;
  for (int64_t at = 0; at < length; at += chunk, ++pieces) move(at, static_cast<int>(std::min(chunk, length - at)));
  return pieces;
}

void check_mpi(int status, const char* what) {
  if (status != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}
#endif

}  // namespace

bool launched_by_mpi(int* ranks) {
  // OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMI-2 launchers (srun --mpi=pmi2, MPICH's hydra) set
  // PMI_SIZE; PMIx launchers (srun --mpi=pmix, prterun) set PMIX_RANK, with Slurm's task count beside.
  const bool ompi = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;
  const bool pmi = std::getenv("PMI_SIZE") != nullptr;
  const bool pmix = std::getenv("PMIX_RANK") != nullptr;
  int n = 0;  // 0 = unknown
  if (ompi) {
    n = env_int("OMPI_COMM_WORLD_SIZE");
  } else if (pmi) {
    n = env_int("PMI_SIZE");
  } else if (pmix) {
    n = env_int("SLURM_NTASKS");
  }
  if (ranks != nullptr) *ranks = n;
  return ompi || pmi || pmix;
}

std::string mpi_library_version() {
#if NEURALOM_WITH_MPI
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI (version unknown)";
  std::string version(text, static_cast<std::size_t>(length));
  const auto end = version.find_first_of(",\n");
  return end == std::string::npos ? version : version.substr(0, end);
#else
  return "";
#endif
}

bool MpiContext::compiled_with_mpi() {
#if NEURALOM_WITH_MPI
  return true;
#else
  return false;
#endif
}

MpiContext::MpiContext() = default;

MpiContext::MpiContext(int* argc, char*** argv) {
  int ranks = 0;
  if (!launched_by_mpi(&ranks)) return;
#if NEURALOM_WITH_MPI
  int already = 0;
  MPI_Initialized(&already);
  if (already == 0) {
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    initialised_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
  // Every rank must cut a transfer into the same chunks: rank 0's setting holds for all.
  chunk_bytes_ = chunk_bytes();
  check_mpi(MPI_Bcast(&chunk_bytes_, 1, MPI_INT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
#else
  (void)argc;
  (void)argv;
  if (ranks > 1) {
    throw ConfigError("this neuralom was built without MPI (NEURALOM_WITH_MPI is OFF) but was started by mpirun/srun "
                      "as one of " + std::to_string(ranks) + " processes, which would all run the same work: rebuild "
                      "with libopenmpi-dev installed, or run the processes as independent shards (--shard K/N, then "
                      "`neuralom merge`)");
  }
#endif
}

MpiContext::~MpiContext() {
#if NEURALOM_WITH_MPI
  if (initialised_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized == 0) MPI_Finalize();
  }
#endif
}

void MpiContext::agree(std::exception_ptr local_error) {
  if (size_ == 1) {
    if (local_error) std::rethrow_exception(local_error);
    return;
  }
#if NEURALOM_WITH_MPI
  int mine = local_error ? rank_ : size_;
  int first = size_;
  check_mpi(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  if (first == size_) return;
  std::string message;
  int code = kExitInternal;
  if (rank_ == first) std::tie(message, code) = describe(local_error);
  broadcast(message, first);
  check_mpi(MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD), "MPI_Bcast");
  throw PeerError("rank " + std::to_string(first) + ": " + message, code, rank_ == 0);
#else
  if (local_error) std::rethrow_exception(local_error);
#endif
}

int64_t MpiContext::sum(int64_t value) {
#if NEURALOM_WITH_MPI
  if (size_ > 1) {
    int64_t total = 0;
    check_mpi(MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    return total;
  }
#endif
  return value;
}

void MpiContext::broadcast(std::string& bytes, int root) {
#if NEURALOM_WITH_MPI
  if (size_ == 1) return;
  auto length = static_cast<int64_t>(bytes.size());
  check_mpi(MPI_Bcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
  bytes.resize(static_cast<std::size_t>(length));
  in_chunks(length, chunk_bytes_, [&](int64_t at, int n) {
    check_mpi(MPI_Bcast(bytes.data() + at, n, MPI_CHAR, root, MPI_COMM_WORLD), "MPI_Bcast");
  });
#else
  (void)bytes;
  (void)root;
#endif
}

std::vector<std::string> MpiContext::gather(const std::string& bytes, int root) {
  if (size_ == 1) return {bytes};
#if NEURALOM_WITH_MPI
  // 64-bit lengths, then each rank's bytes to the root in chunks (point to point, in rank order).
  const auto length = static_cast<int64_t>(bytes.size());
  std::vector<int64_t> lengths(static_cast<std::size_t>(size_), 0);
  check_mpi(MPI_Gather(&length, 1, MPI_INT64_T, lengths.data(), 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Gather");
  constexpr int kTag = 7301;
  int64_t total = 0;
  for (const int64_t n : lengths) total += n;
  std::vector<std::string> out;
  // The root makes room for everything first and says whether it could: a root that ran out of
  // memory would otherwise leave the other ranks waiting in MPI_Send for ever.
  int ready = 1;
  if (rank_ == root) {
    try {
      out.resize(lengths.size());
      for (std::size_t r = 0; r < lengths.size(); ++r) {
        if (static_cast<int>(r) == root) {
          out[r] = bytes;
        } else {
          out[r].resize(static_cast<std::size_t>(lengths[r]));
        }
      }
    } catch (const std::exception&) {  // bad_alloc, length_error
      ready = 0;
      out.clear();
    }
  }
  check_mpi(MPI_Bcast(&ready, 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Bcast");
  if (ready == 0) {
    throw std::runtime_error("MPI gather: rank " + std::to_string(root) + " has no memory for the " +
                             std::to_string(total) + " bytes of the ranks' records");
  }
  if (rank_ != root) {
    in_chunks(length, chunk_bytes_, [&](int64_t at, int n) {
      check_mpi(MPI_Send(bytes.data() + at, n, MPI_CHAR, root, kTag, MPI_COMM_WORLD), "MPI_Send");
    });
    return out;
  }
  int64_t messages = 0;
  for (std::size_t r = 0; r < lengths.size(); ++r) {
    if (static_cast<int>(r) == root) continue;
    messages += in_chunks(lengths[r], chunk_bytes_, [&](int64_t at, int n) {
      check_mpi(MPI_Recv(out[r].data() + at, n, MPI_CHAR, static_cast<int>(r), kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "MPI_Recv");
    });
  }
  spdlog::debug("MPI gather: {} bytes from {} ranks in {} messages of at most {} bytes", total, size_, messages,
                chunk_bytes_);
  return out;
#else
  return {bytes};
#endif
}

void MpiContext::barrier() {
#if NEURALOM_WITH_MPI
  if (size_ > 1) check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

}  // namespace neuralom
