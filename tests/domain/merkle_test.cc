// Known answers from RFC 6962's reference test vectors, and every inclusion
// and consistency proof of trees up to 16 leaves, checked both ways.
#include "domain/merkle.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace liaison::merkle {
namespace {

std::vector<std::string> ReferenceLeafHashes() {
  std::vector<std::string> hashes;
  for (const char* hex :
       {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f"}) {
    hashes.push_back(LeafHash(absl::HexStringToBytes(hex)));
  }
  return hashes;
}

TEST(MerkleTest, RootsMatchTheReferenceVectors) {
  const std::vector<std::string> roots = {
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const std::vector<std::string> leaves = ReferenceLeafHashes();
  for (size_t n = 0; n <= leaves.size(); ++n) {
    SCOPED_TRACE(n);
    const std::vector<std::string> prefix(leaves.begin(), leaves.begin() + n);
    EXPECT_EQ(HexEncode(RootHash(prefix)), roots[n]);
  }
}

TEST(MerkleTest, ReferenceInclusionProof) {
  const std::vector<std::string> leaves = ReferenceLeafHashes();
  absl::StatusOr<std::vector<std::string>> proof = InclusionProof(leaves, 0, 8);
  ASSERT_TRUE(proof.ok());
  ASSERT_EQ(proof->size(), 3u);
  EXPECT_EQ(HexEncode((*proof)[0]),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
  EXPECT_EQ(HexEncode((*proof)[1]),
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e");
  EXPECT_EQ(HexEncode((*proof)[2]),
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
}

TEST(MerkleTest, EveryProofUpToSixteenLeavesVerifiesAndTamperingFails) {
  std::vector<std::string> leaves;
  for (int i = 0; i < 16; ++i) leaves.push_back(LeafHash(absl::StrCat("e", i)));
  for (uint64_t size = 1; size <= 16; ++size) {
    const std::vector<std::string> prefix(leaves.begin(),
                                          leaves.begin() + size);
    const std::string root = RootHash(prefix);
    for (uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE(absl::StrCat("leaf ", index, " of ", size));
      absl::StatusOr<std::vector<std::string>> proof =
          InclusionProof(leaves, index, size);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyInclusion(leaves[index], index, size, *proof, root));
      EXPECT_FALSE(
          VerifyInclusion(LeafHash("forged"), index, size, *proof, root));
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion(leaves[index], (index + 1) % size, size,
                                     *proof, root));
      }
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      SCOPED_TRACE(absl::StrCat("consistency ", old_size, " -> ", size));
      const std::vector<std::string> old_prefix(leaves.begin(),
                                                leaves.begin() + old_size);
      const std::string old_root = RootHash(old_prefix);
      absl::StatusOr<std::vector<std::string>> proof =
          ConsistencyProof(leaves, old_size, size);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyConsistency(old_size, size, old_root, root, *proof));
      if (old_size < size) {
        // A rewritten history does not extend the old checkpoint.
        std::vector<std::string> rewritten = prefix;
        rewritten[0] = LeafHash("rewritten");
        EXPECT_FALSE(VerifyConsistency(old_size, size, old_root,
                                       RootHash(rewritten), *proof));
        EXPECT_FALSE(
            VerifyConsistency(old_size, size, LeafHash("x"), root, *proof));
      }
    }
  }
}

TEST(MerkleTest, OutOfRangeRequestsAreRefused) {
  const std::vector<std::string> leaves = ReferenceLeafHashes();
  EXPECT_EQ(InclusionProof(leaves, 8, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(leaves, 0, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 0, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(leaves, 5, 4).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyInclusion(leaves[0], 3, 2, {}, RootHash(leaves)));
}

}  // namespace
}  // namespace liaison::merkle
