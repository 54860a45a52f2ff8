// The SHA-256 wrapper over OpenSSL against the FIPS 180-4 / NIST example vectors, block-boundary
// lengths, incremental updates and files streamed in blocks.
#include "neuralom/io/sha256.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

/// A file in the system temporary directory, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content)
      : path_((fs::temp_directory_path() / ("neuralom_sha256_test_" + std::to_string(::getpid()))).string()) {
    std::ofstream(path_, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Sha256Test, EmptyString) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, NistOneBlockMessage) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, NistTwoBlockMessages) {
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256Test, NistMillionLetterA) {
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, LengthsAroundThePaddingBoundary) {
  // 55 bytes is the longest message whose padding fits in one block; 56..63 need a second block.
  EXPECT_EQ(sha256_hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(sha256_hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(sha256_hex(std::string(63, 'a')), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
  EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  EXPECT_EQ(sha256_hex(std::string(65, 'a')), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
  EXPECT_EQ(sha256_hex(std::string(119, 'a')), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
  EXPECT_EQ(sha256_hex(std::string(120, 'a')), "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST(Sha256Test, IncrementalUpdatesMatchOneShot) {
  const std::string message(300, 'q');
  const std::string expected = sha256_hex(message);
  // Every split point, including ones inside a buffered partial block.
  for (std::size_t split = 0; split <= message.size(); ++split) {
    Sha256 sha;
    sha.update(message.data(), split);
    sha.update(message.data() + split, message.size() - split);
    ASSERT_EQ(sha.hex_digest(), expected) << "split at " << split;
  }
  // Byte by byte.
  Sha256 sha;
  for (const char c : message) sha.update(&c, 1);
  EXPECT_EQ(sha.hex_digest(), expected);
}

/// `size` bytes of the pattern (i * 31 + 7) mod 256.
std::string pattern(std::size_t size) {
  std::string content(size, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>((i * 31 + 7) % 256);
  return content;
}

TEST(Sha256Test, OneMebibyteFile) {
  const std::string content = pattern(std::size_t{1} << 20);
  const TempFile file(content);
  // Reference digest from Python's hashlib over the same bytes.
  EXPECT_EQ(sha256_file(file.path()), "06b7bbfb7824aa03382051691630eb26de85102d1b08a81e907ec0744cd8a286");
  EXPECT_EQ(sha256_hex(content), sha256_file(file.path()));
}

TEST(Sha256Test, FileStreamedInSeveralBlocks) {
  // 9 MiB + 123 bytes: three reads of the 4 MiB block, the last one partial.
  const TempFile file(pattern((std::size_t{9} << 20) + 123));
  // Reference digest from Python's hashlib over the same bytes.
  EXPECT_EQ(sha256_file(file.path()), "c4792d2a2e9756a3f06fbbe67e469fdce468e5c51f99c798abcfabfe4d16107a");
}

TEST(Sha256Test, UpdateAfterTheDigestIsALogicError) {
  Sha256 sha;
  sha.update("abc", 3);
  EXPECT_EQ(sha.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(sha.update("d", 1), std::logic_error);
  EXPECT_THROW(sha.hex_digest(), std::logic_error);
}

TEST(Sha256Test, EmptyFile) {
  const TempFile file("");
  EXPECT_EQ(sha256_file(file.path()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, MissingFileIsAnInputErrorNamingThePath) {
  try {
    sha256_file("/nonexistent/neuralom/model.pt");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/neuralom/model.pt"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace neuralom
