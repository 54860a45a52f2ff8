// Output files appear only when complete. Each is written under a temporary name in the target
// directory ("<name>.partial") and renamed into place by commit(); an abandoned one is deleted, so
// an interrupted run never leaves a file that looks complete.
#pragma once

#include <cstdint>
#include <string>

namespace neuralom {

/// Creates `dir` (and parents) if needed and checks that a file can be created in it.
/// Throws OutputError ("cannot write to <dir>: <reason>").
void ensure_output_directory(const std::string& dir);

/// Bytes an unprivileged process may still write to the file system that holds `path`, or its
/// nearest existing parent directory (statvfs: f_bavail x f_frsize); -1 if that cannot be told.
/// Quotas and `ulimit -f` are not seen. Never throws.
int64_t free_space_bytes(const std::string& path);

/// The size of a file, or the total size of the files under a directory (a Zarr store); -1 if
/// it cannot be read. Never throws.
int64_t tree_bytes(const std::string& path) noexcept;

/// Removes a file or a directory tree, as std::filesystem::remove_all, without following symbolic
/// links; what cannot be removed is left, silently (a best-effort clean-up). Written with nftw:
/// LibTorch 2.11's libtorch.so exports a std::filesystem::remove_all of its own that the dynamic
/// linker picks before libstdc++'s, and that one crashes.
void remove_tree(const std::string& path) noexcept;

/// A file (or a directory, e.g. a Zarr store) being written under a temporary name.
class PendingFile {
 public:
  /// Reserves "<final_path>.partial"; removes a stale one left by an earlier crash.
  /// Throws OutputError if the directory does not exist or is not writable.
  explicit PendingFile(std::string final_path);
  ~PendingFile();  ///< deletes the temporary file unless committed
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  PendingFile(PendingFile&&) noexcept;
  PendingFile& operator=(PendingFile&&) noexcept;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }

  /// Flushes the temporary file (or every file of a directory) to the disk with fsync(2), then
  /// renames it to the final path (atomically replacing a file; a directory is moved aside,
  /// replaced, then deleted) and flushes the directory. Throws OutputError.
  void commit();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool committed_ = false;
};

/// Writes `content` to `path` through a PendingFile. Throws OutputError.
void write_text_file(const std::string& path, const std::string& content);

/// An exclusive flock(2) on an output directory for as long as it lives, so that two runs (a
/// resumed run and a still-running one, two merges) never write to one directory at once.
class DirectoryLock {
 public:
  /// Throws OutputError if another process holds the lock or `dir` cannot be opened. Where the
  /// file system cannot lock (some network mounts), the lock is not held and warning() says so.
  explicit DirectoryLock(const std::string& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

  const std::string& warning() const { return warning_; }

 private:
  int fd_ = -1;
  std::string warning_;
};

}  // namespace neuralom
