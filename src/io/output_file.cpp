#include "neuralom/io/output_file.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <utility>

#include "neuralom/core/errors.h"

namespace fs = std::filesystem;

namespace neuralom {
namespace {

/// The directory a path lives in ("." for a bare file name).
fs::path parent_directory(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

/// fsync(2) of one file or directory; false (errno set) if it cannot be opened or synced.
bool sync_path(const char* path, bool directory) {
  const int fd = ::open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0 || errno == EINVAL;  // EINVAL: a file system without fsync
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

/// Flushes a file, or every file and directory of a tree, to the disk: what a rename publishes
/// must be on the disk before the rename is, or a crash can leave a complete-looking name with
/// nothing (or zeros) behind it. Throws OutputError.
void sync_tree(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!sync_path(path.c_str(), false)) throw OutputError("cannot flush " + path + " to disk: " + std::strerror(errno));
    return;
  }
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const bool directory = it->is_directory(ec);
    if (!sync_path(it->path().c_str(), directory)) {
      throw OutputError("cannot flush " + it->path().string() + " to disk: " + std::strerror(errno));
    }
  }
  if (ec || !sync_path(path.c_str(), true)) throw OutputError("cannot flush " + path + " to disk");
}

}  // namespace

void remove_tree(const std::string& path) noexcept {
  if (path.empty()) return;
  // Depth first (FTW_DEPTH: a directory after its contents), symbolic links themselves (FTW_PHYS).
  ::nftw(
      path.c_str(), [](const char* entry, const struct stat*, int, struct FTW*) { ::remove(entry); return 0; },
      /*nopenfd=*/16, FTW_DEPTH | FTW_PHYS);
}

void ensure_output_directory(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError("cannot write to " + dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec)) throw OutputError("cannot write to " + dir + ": not a directory");
  // Permission bits do not tell the whole story (read-only mounts, ACLs, quotas, root squashing):
  // creating a file is the only reliable test, and it is better to fail now than after hours of
  // compute.
  const std::string probe =
      (fs::path(dir) / (".neuralom-write-probe-" + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw OutputError("cannot write to " + dir + ": " + std::strerror(errno));
  ::close(fd);
  fs::remove(probe, ec);
  if (ec) throw OutputError("cannot write to " + dir + ": cannot remove probe file " + probe + ": " + ec.message());
}

int64_t tree_bytes(const std::string& path) noexcept {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    const auto size = fs::file_size(path, ec);
    return ec ? -1 : static_cast<int64_t>(size);
  }
  int64_t total = 0;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<int64_t>(it->file_size(ec));
    if (ec) return -1;
  }
  return ec ? -1 : total;
}

int64_t free_space_bytes(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::absolute(path.empty() ? fs::path(".") : fs::path(path), ec);
  if (ec) return -1;
  while (!fs::exists(dir, ec) && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  int64_t bytes = 0;
  if (__builtin_mul_overflow(st.f_bavail, st.f_frsize, &bytes)) return std::numeric_limits<int64_t>::max();
  return bytes;
}

PendingFile::PendingFile(std::string final_path)
    : final_path_(std::move(final_path)), temp_path_(final_path_ + ".partial") {
  const fs::path dir = parent_directory(final_path_);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw OutputError("cannot write " + final_path_ + ": directory " + dir.string() + " does not exist");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw OutputError("cannot write " + final_path_ + ": directory " + dir.string() + " is not writable (" +
                      std::strerror(errno) + ")");
  }
  // A ".partial" file (or Zarr directory) is never valid output: it is what an earlier interrupted
  // run left behind.
  remove_tree(temp_path_);
  if (fs::symlink_status(temp_path_, ec).type() != fs::file_type::not_found) {
    throw OutputError("cannot remove stale temporary file " + temp_path_);
  }
}

PendingFile::~PendingFile() {
  if (!committed_ && !temp_path_.empty()) {
    remove_tree(temp_path_);  // never throws; a leftover is removed by the next run
  }
}

PendingFile::PendingFile(PendingFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      committed_(other.committed_) {
  // The moved-from object must not delete the file it no longer owns.
  other.temp_path_.clear();
  other.committed_ = true;
}

PendingFile& PendingFile::operator=(PendingFile&& other) noexcept {
  if (this != &other) {
    if (!committed_ && !temp_path_.empty()) remove_tree(temp_path_);
    final_path_ = std::move(other.final_path_);
    temp_path_ = std::move(other.temp_path_);
    committed_ = other.committed_;
    other.temp_path_.clear();
    other.committed_ = true;
  }
  return *this;
}

void PendingFile::commit() {
  if (committed_) return;
  std::error_code ec;
  if (!fs::exists(temp_path_, ec)) {
    throw OutputError("cannot commit " + final_path_ + ": temporary file " + temp_path_ + " does not exist");
  }
  // A directory (a Zarr store) cannot replace a non-empty directory in one rename: the old one is
  // moved aside first and deleted after, so that the final name never holds a partial store.
  // The new data reaches the disk first: a failure here leaves the old output where it was.
  sync_tree(temp_path_);
  const std::string aside = final_path_ + ".replaced";
  const bool replace_directory = fs::is_directory(final_path_, ec);
  if (replace_directory) {
    remove_tree(aside);
    fs::rename(final_path_, aside, ec);
    if (ec) throw OutputError("cannot move " + final_path_ + " aside to replace it: " + ec.message());
  }
  // rename(2) within one directory is atomic: readers see the old file or the complete new one.
  fs::rename(temp_path_, final_path_, ec);
  if (ec) {
    std::error_code restore_ec;
    if (replace_directory) fs::rename(aside, final_path_, restore_ec);  // the old store back in its place
    throw OutputError("cannot rename " + temp_path_ + " to " + final_path_ + ": " + ec.message());
  }
  if (replace_directory) remove_tree(aside);
  committed_ = true;
  // The rename itself reaches the disk with its directory; a failure here loses nothing written.
  sync_path(parent_directory(final_path_).c_str(), true);
}

void write_text_file(const std::string& path, const std::string& content) {
  PendingFile pending(path);
  {
    std::ofstream out(pending.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) throw OutputError("cannot create " + pending.temp_path() + ": " + std::strerror(errno));
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) throw OutputError("cannot write " + pending.temp_path() + " (disk full?)");
  }
  pending.commit();
}

DirectoryLock::DirectoryLock(const std::string& dir) {
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw OutputError("cannot open the output directory " + dir + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  const int error = errno;
  ::close(fd_);
  fd_ = -1;
  if (error == EWOULDBLOCK) {
    throw OutputError("another neuralom process is writing to " + dir + " (it holds the directory's lock): wait "
                      "for it to end, or choose another --output");
  }
  // Some network file systems lock nothing: the run goes on, unguarded.
  warning_ = std::string("cannot lock ") + dir + " (" + std::strerror(error) +
             "): make sure no other neuralom process writes there";
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace neuralom
