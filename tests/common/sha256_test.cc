// Known answers (FIPS 180-2 examples) for the one-shot digest and the
// hasher, which share one fetched implementation.
#include "common/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace liaison {
namespace {

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256(
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, TheHasherInPiecesGivesTheOneShotDigest) {
  const std::string data(1000, 'a');
  Sha256Hasher hasher;
  hasher.Update(data.substr(0, 1));
  hasher.Update(data.substr(1, 499));
  hasher.Update("");
  hasher.Update(data.substr(500));
  EXPECT_EQ(hasher.Finish(), Sha256(data));
}

TEST(Sha256Test, ThreadsHashAtOnce) {
  std::vector<std::thread> threads;
  std::vector<std::string> digests(8);
  for (size_t i = 0; i < digests.size(); ++i) {
    threads.emplace_back([&digests, i] {
      for (int n = 0; n < 200; ++n) digests[i] = HexEncode(Sha256("abc"));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& digest : digests) {
    EXPECT_EQ(
        digest,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}

}  // namespace
}  // namespace liaison
