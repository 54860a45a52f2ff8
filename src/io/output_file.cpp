#include "neuralom/io/output_file.h"

#include <fcntl.h>
#include <ftw.h>
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
    throw OutputError("cannot rename " + temp_path_ + " to " + final_path_ + ": " + ec.message());
  }
  if (replace_directory) remove_tree(aside);
  committed_ = true;
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

}  // namespace neuralom
