// Known answers from RFC 6962's reference test vectors, and every inclusion
// and consistency proof of trees up to 16 leaves, checked both ways.
#include "domain/merkle.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "absl/numeric/bits.h"
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

std::vector<std::string> Hex(const std::vector<std::string>& hashes) {
  std::vector<std::string> hex;
  for (const std::string& hash : hashes) hex.push_back(HexEncode(hash));
  return hex;
}

TEST(MerkleTest, ReferenceProofsOfTheSevenAndEightLeafTrees) {
  const std::vector<std::string> leaves = ReferenceLeafHashes();
  struct Inclusion {
    uint64_t index, size;
    std::vector<std::string> proof;
  };
  const std::vector<Inclusion> inclusions = {
      {0, 1, {}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       3,
       {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {0,
       7,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"}},
  };
  for (const Inclusion& want : inclusions) {
    SCOPED_TRACE(absl::StrCat("leaf ", want.index, " of ", want.size));
    absl::StatusOr<std::vector<std::string>> proof =
        InclusionProof(leaves, want.index, want.size);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(Hex(*proof), want.proof);
  }
  struct Consistency {
    uint64_t old_size, new_size;
    std::vector<std::string> proof;
  };
  const std::vector<Consistency> consistencies = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const Consistency& want : consistencies) {
    SCOPED_TRACE(absl::StrCat(want.old_size, " -> ", want.new_size));
    absl::StatusOr<std::vector<std::string>> proof =
        ConsistencyProof(leaves, want.old_size, want.new_size);
    ASSERT_TRUE(proof.ok());
    EXPECT_EQ(Hex(*proof), want.proof);
  }
}

// A tree kept as its stored nodes, as the audit log keeps it, counting reads.
class StoredTree {
 public:
  auto Reader() {
    return [this](int level, uint64_t index) -> absl::StatusOr<std::string> {
      ++reads_;
      auto it = nodes_.find({level, index});
      if (it == nodes_.end()) {
        return absl::NotFoundError(absl::StrCat("no node ", level, "/", index));
      }
      return it->second;
    };
  }

  void Append(const std::string& leaf_hash) {
    absl::StatusOr<std::vector<Node>> nodes =
        NodesForAppend(size_, leaf_hash, Reader());
    ASSERT_TRUE(nodes.ok()) << nodes.status();
    for (Node& node : *nodes) {
      nodes_[{node.level, node.index}] = std::move(node.hash);
    }
    ++size_;
  }

  uint64_t size() const { return size_; }
  size_t node_count() const { return nodes_.size(); }
  int reads() const { return reads_; }
  void ResetReads() { reads_ = 0; }

 private:
  uint64_t size_ = 0;
  int reads_ = 0;
  std::map<std::pair<int, uint64_t>, std::string> nodes_;
};

TEST(MerkleTest, StoredNodesGiveTheSameRootsAndProofs) {
  std::vector<std::string> leaves;
  StoredTree tree;
  for (int i = 0; i < 70; ++i) {
    leaves.push_back(LeafHash(absl::StrCat("entry ", i)));
    tree.Append(leaves.back());
    const uint64_t size = tree.size();
    SCOPED_TRACE(size);
    absl::StatusOr<std::string> root = RootHash(size, tree.Reader());
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, RootHash(leaves));
    for (uint64_t index = 0; index < size; ++index) {
      absl::StatusOr<std::vector<std::string>> proof =
          InclusionProof(index, size, tree.Reader());
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyInclusion(leaves[index], index, size, *proof, *root));
    }
    for (uint64_t old_size = 1; old_size <= size; ++old_size) {
      const std::vector<std::string> old(leaves.begin(),
                                         leaves.begin() + old_size);
      absl::StatusOr<std::vector<std::string>> proof =
          ConsistencyProof(old_size, size, tree.Reader());
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(
          VerifyConsistency(old_size, size, RootHash(old), *root, *proof));
    }
  }
  // Fewer than two nodes per leaf.
  EXPECT_LT(tree.node_count(), 2 * leaves.size());
}

TEST(MerkleTest, PostOrderPositionsNumberTheNodesInTheOrderAppendsAddThem) {
  // The tree of four leaves, in the order its appends add its nodes.
  EXPECT_EQ(PostOrderPosition(0, 0), 0u);
  EXPECT_EQ(PostOrderPosition(0, 1), 1u);
  EXPECT_EQ(PostOrderPosition(1, 0), 2u);
  EXPECT_EQ(PostOrderPosition(0, 2), 3u);
  EXPECT_EQ(PostOrderPosition(0, 3), 4u);
  EXPECT_EQ(PostOrderPosition(1, 1), 5u);
  EXPECT_EQ(PostOrderPosition(2, 0), 6u);
  // Every node NodesForAppend returns, over 5000 appends, comes next.
  uint64_t next = 0;
  std::map<std::pair<int, uint64_t>, std::string> stored;
  for (uint64_t i = 0; i < 5000; ++i) {
    absl::StatusOr<std::vector<Node>> nodes = NodesForAppend(
        i, LeafHash(absl::StrCat(i)),
        [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
          return stored.at({level, index});
        });
    ASSERT_TRUE(nodes.ok()) << nodes.status();
    for (const Node& node : *nodes) {
      ASSERT_EQ(PostOrderPosition(node.level, node.index), next)
          << node.level << "/" << node.index;
      ++next;
      stored[{node.level, node.index}] = node.hash;
    }
  }
  EXPECT_EQ(next, 2 * 5000 - static_cast<uint64_t>(absl::popcount(5000u)));
  // The largest subtree a 2^62-leaf log can hold still has a position.
  EXPECT_EQ(PostOrderPosition(62, 0), (uint64_t{1} << 63) - 2);
}

TEST(MerkleTest, StoredProofsReadLogarithmicallyManyNodes) {
  StoredTree tree;
  const uint64_t size = 5000;
  for (uint64_t i = 0; i < size; ++i) {
    tree.Append(LeafHash(absl::StrCat(i)));
  }
  // log2(5000) < 13: a root, path or consistency proof combines at most
  // one stored node per level on each side.
  const int bound = 2 * 13 + 2;
  for (uint64_t index : {uint64_t{0}, uint64_t{1}, uint64_t{2047},
                         uint64_t{4095}, uint64_t{4999}}) {
    tree.ResetReads();
    ASSERT_TRUE(InclusionProof(index, size, tree.Reader()).ok());
    EXPECT_LE(tree.reads(), bound) << index;
  }
  for (uint64_t old_size :
       {uint64_t{1}, uint64_t{1000}, uint64_t{4096}, uint64_t{4999}}) {
    tree.ResetReads();
    ASSERT_TRUE(ConsistencyProof(old_size, size, tree.Reader()).ok());
    EXPECT_LE(tree.reads(), bound) << old_size;
  }
  tree.ResetReads();
  ASSERT_TRUE(RootHash(size, tree.Reader()).ok());
  EXPECT_LE(tree.reads(), 13);
}

TEST(MerkleTest, MissingStoredNodesAreReported) {
  StoredTree tree;
  for (int i = 0; i < 4; ++i) tree.Append(LeafHash(absl::StrCat(i)));
  EXPECT_EQ(RootHash(5, tree.Reader()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(InclusionProof(0, 6, tree.Reader()).status().code(),
            absl::StatusCode::kNotFound);
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
      std::vector<std::string> padded = *proof;
      padded.push_back(LeafHash("pad"));
      EXPECT_FALSE(VerifyInclusion(leaves[index], index, size, padded, root));
      if (!proof->empty()) {
        std::vector<std::string> short_proof(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(
            VerifyInclusion(leaves[index], index, size, short_proof, root));
      }
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
        // A rewritten history does not extend the old checkpoint, even with
        // the proof its own tree gives.
        std::vector<std::string> rewritten = prefix;
        rewritten[old_size - 1] = LeafHash("rewritten");
        absl::StatusOr<std::vector<std::string>> forged =
            ConsistencyProof(rewritten, old_size, size);
        ASSERT_TRUE(forged.ok());
        EXPECT_FALSE(VerifyConsistency(old_size, size, old_root,
                                       RootHash(rewritten), *forged));
        EXPECT_FALSE(
            VerifyConsistency(old_size, size, LeafHash("x"), root, *proof));
        // A proof cut short or padded does not verify.
        if (!proof->empty()) {
          std::vector<std::string> short_proof(proof->begin(),
                                               proof->end() - 1);
          EXPECT_FALSE(
              VerifyConsistency(old_size, size, old_root, root, short_proof));
        }
        std::vector<std::string> padded = *proof;
        padded.push_back(LeafHash("pad"));
        EXPECT_FALSE(VerifyConsistency(old_size, size, old_root, root, padded));
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
