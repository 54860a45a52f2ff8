// Output files appear only when complete: PendingFile, ensure_output_directory, write_text_file; and
// what guards an output directory: DirectoryLock, tree_bytes.
#include "neuralom/io/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "error_message.h"
#include "temp_dir.h"

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

using testing::error_message;
using testing::TempDir;

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PendingFileTest, FileIsNotVisibleUntilCommit) {
  const TempDir dir;
  const std::string final_path = dir.file("metrics.json");
  PendingFile pending(final_path);
  EXPECT_EQ(pending.final_path(), final_path);
  EXPECT_EQ(pending.temp_path(), final_path + ".partial");
  write_file(pending.temp_path(), "complete");
  EXPECT_FALSE(fs::exists(final_path));
  pending.commit();
  EXPECT_EQ(read_file(final_path), "complete");
  EXPECT_FALSE(fs::exists(final_path + ".partial"));
}

TEST(PendingFileTest, DestructorDeletesAnUncommittedFile) {
  const TempDir dir;
  const std::string final_path = dir.file("results.h5");
  {
    PendingFile pending(final_path);
    write_file(pending.temp_path(), "half-written");
    ASSERT_TRUE(fs::exists(pending.temp_path()));
  }
  EXPECT_FALSE(fs::exists(final_path + ".partial"));
  EXPECT_FALSE(fs::exists(final_path));
}

TEST(PendingFileTest, DestructorKeepsACommittedFile) {
  const TempDir dir;
  const std::string final_path = dir.file("out.txt");
  {
    PendingFile pending(final_path);
    write_file(pending.temp_path(), "kept");
    pending.commit();
    pending.commit();  // a second commit is a no-op
  }
  EXPECT_EQ(read_file(final_path), "kept");
}

TEST(PendingFileTest, CommitReplacesAnExistingFileAtomically) {
  const TempDir dir;
  const std::string final_path = dir.file("run.json");
  write_file(final_path, "old");
  // A reader that has the old file open keeps seeing the old content: rename() swaps the
  // directory entry instead of rewriting the file in place.
  const int reader = ::open(final_path.c_str(), O_RDONLY);
  ASSERT_GE(reader, 0);

  PendingFile pending(final_path);
  write_file(pending.temp_path(), "new");
  EXPECT_EQ(read_file(final_path), "old");
  pending.commit();
  EXPECT_EQ(read_file(final_path), "new");

  char buf[8] = {};
  EXPECT_EQ(::pread(reader, buf, sizeof(buf), 0), 3);
  EXPECT_EQ(std::string(buf), "old");
  ::close(reader);
}

TEST(PendingFileTest, ADirectoryReplacesAnExistingDirectory) {
  const TempDir dir;
  const std::string final_path = dir.file("results.zarr");
  fs::create_directories(final_path + "/old");
  write_file(final_path + "/old/0.0", "old");
  {
    PendingFile pending(final_path);
    fs::create_directories(pending.temp_path() + "/new");
    write_file(pending.temp_path() + "/new/0.0", "new");
    pending.commit();
  }
  EXPECT_EQ(read_file(final_path + "/new/0.0"), "new");
  EXPECT_FALSE(fs::exists(final_path + "/old"));
  EXPECT_FALSE(fs::exists(final_path + ".partial"));
  EXPECT_FALSE(fs::exists(final_path + ".replaced"));
}

TEST(PendingFileTest, AnUncommittedDirectoryAndAStaleOneAreRemoved) {
  const TempDir dir;
  const std::string final_path = dir.file("results.zarr");
  fs::create_directories(final_path + ".partial/stale");  // left by an earlier crash
  {
    PendingFile pending(final_path);
    EXPECT_FALSE(fs::exists(pending.temp_path()));
    fs::create_directories(pending.temp_path() + "/var");
  }
  EXPECT_FALSE(fs::exists(final_path + ".partial"));
  EXPECT_FALSE(fs::exists(final_path));
}

TEST(RemoveTreeTest, RemovesANestedTreeButNotWhatItsLinksPointTo) {
  const TempDir dir;
  const std::string keep = dir.file("keep");
  fs::create_directories(keep);
  write_file(keep + "/precious.h5", "a user's data");
  const std::string tree = dir.file("tree");
  fs::create_directories(tree + "/a/b/c");
  write_file(tree + "/a/b/c/deep.txt", "x");
  write_file(tree + "/top.txt", "y");
  fs::create_directory_symlink(keep, tree + "/a/link-to-keep");
  fs::create_symlink(keep + "/precious.h5", tree + "/a/b/link-to-file");
  remove_tree(tree);
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree)));
  EXPECT_EQ(read_file(keep + "/precious.h5"), "a user's data");
}

TEST(RemoveTreeTest, RemovesAFileAndIgnoresAMissingPath) {
  const TempDir dir;
  const std::string file = dir.file("plain.txt");
  write_file(file, "z");
  remove_tree(file);
  EXPECT_FALSE(fs::exists(file));
  remove_tree(dir.file("never-existed"));  // no error, nothing to do
  remove_tree("");
  EXPECT_TRUE(fs::is_directory(dir.path()));
}

TEST(PendingFileTest, RemovesAStalePartialFileFromAnEarlierCrash) {
  const TempDir dir;
  const std::string final_path = dir.file("results.h5");
  write_file(final_path + ".partial", "left over by a killed run");
  const PendingFile pending(final_path);
  EXPECT_FALSE(fs::exists(pending.temp_path()));
}

TEST(PendingFileTest, CommitWithoutATemporaryFileFails) {
  const TempDir dir;
  PendingFile pending(dir.file("never_written.txt"));
  const std::string message = error_message<OutputError>([&] { pending.commit(); });
  EXPECT_NE(message.find("never_written.txt.partial does not exist"), std::string::npos) << message;
}

TEST(PendingFileTest, MissingDirectoryIsAnOutputError) {
  const TempDir dir;
  const std::string missing = dir.file("no/such/dir");
  const std::string message = error_message<OutputError>([&] { PendingFile pending(missing + "/x.h5"); });
  EXPECT_NE(message.find("directory " + missing + " does not exist"), std::string::npos) << message;
}

TEST(PendingFileTest, UnwritableDirectoryIsAnOutputError) {
  const TempDir dir;
  const auto locked_dir = dir.read_only_subdirectory("locked");
  if (!locked_dir) GTEST_SKIP() << "permission bits do not stop this user (root?)";
  const fs::path& locked = *locked_dir;
  const std::string message = error_message<OutputError>([&] { PendingFile pending((locked / "x.h5").string()); });
  EXPECT_NE(message.find("is not writable"), std::string::npos) << message;
  fs::permissions(locked, fs::perms::owner_all);
}

TEST(PendingFileTest, MoveTransfersOwnership) {
  const TempDir dir;
  const std::string final_path = dir.file("moved.txt");
  PendingFile outer(dir.file("other.txt"));
  write_file(outer.temp_path(), "other");
  {
    PendingFile first(final_path);
    write_file(first.temp_path(), "data");
    PendingFile second(std::move(first));
    EXPECT_EQ(second.temp_path(), final_path + ".partial");
    // Move-assignment drops (deletes) what `outer` held and takes over `second`'s file.
    outer = std::move(second);
  }
  EXPECT_FALSE(fs::exists(dir.file("other.txt.partial")));
  EXPECT_TRUE(fs::exists(final_path + ".partial")) << "the moved-from objects must not delete it";
  outer.commit();
  EXPECT_EQ(read_file(final_path), "data");
}

TEST(OutputDirectoryTest, CreatesMissingParents) {
  const TempDir dir;
  const std::string nested = dir.file("a/b/c");
  ensure_output_directory(nested);
  EXPECT_TRUE(fs::is_directory(nested));
  // The write probe leaves nothing behind.
  EXPECT_TRUE(fs::is_empty(nested));
  ensure_output_directory(nested);  // idempotent
}

TEST(OutputDirectoryTest, AFileInTheWayIsAnOutputError) {
  const TempDir dir;
  write_file(dir.file("plain"), "not a directory");
  const std::string message = error_message<OutputError>([&] { ensure_output_directory(dir.file("plain/sub")); });
  EXPECT_EQ(message.rfind("cannot write to " + dir.file("plain/sub") + ": ", 0), 0u) << message;
}

TEST(OutputDirectoryTest, UnwritableDirectoryIsAnOutputError) {
  const TempDir dir;
  const auto locked_dir = dir.read_only_subdirectory("locked");
  if (!locked_dir) GTEST_SKIP() << "permission bits do not stop this user (root?)";
  const fs::path& locked = *locked_dir;
  const std::string message = error_message<OutputError>([&] { ensure_output_directory(locked.string()); });
  EXPECT_NE(message.find("Permission denied"), std::string::npos) << message;
  fs::permissions(locked, fs::perms::owner_all);
}

TEST(WriteTextFileTest, WritesTheContentAndLeavesNoTemporaryFile) {
  const TempDir dir;
  const std::string path = dir.file("metrics.json");
  write_file(path, "previous run");
  write_text_file(path, "{\"rmse\": 0.5}\n");
  EXPECT_EQ(read_file(path), "{\"rmse\": 0.5}\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(WriteTextFileTest, MissingDirectoryIsAnOutputError) {
  const TempDir dir;
  EXPECT_THROW(write_text_file(dir.file("missing/metrics.json"), "x"), OutputError);
}

TEST(DirectoryLockTest, ASecondWriterIsRefusedUntilTheFirstEnds) {
  const TempDir dir;
  const std::string out = dir.path().string();
  {
    const DirectoryLock first(out);
    EXPECT_TRUE(first.warning().empty()) << first.warning();
    // flock(2) locks belong to an open file description: a second one conflicts, even here.
    const std::string message = testing::error_message<OutputError>([&] { DirectoryLock second(out); });
    EXPECT_NE(message.find("another neuralom process is writing to " + out), std::string::npos) << message;
  }
  EXPECT_NO_THROW(DirectoryLock again(out));
  EXPECT_THROW(DirectoryLock missing(out + "/absent"), OutputError);
}

TEST(TreeBytesTest, AFileOrEveryFileOfADirectory) {
  const TempDir dir;
  dir.write("a", "12345");
  std::filesystem::create_directories(dir.path() / "store" / "group");
  dir.write("store/.zgroup", "123");
  dir.write("store/group/0.0", "1234567");
  EXPECT_EQ(tree_bytes(dir.file("a")), 5);
  EXPECT_EQ(tree_bytes(dir.file("store")), 10);
  EXPECT_EQ(tree_bytes(dir.file("missing")), -1);
}

}  // namespace
}  // namespace neuralom
