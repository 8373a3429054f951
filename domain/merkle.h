// Merkle tree hashing and proofs as in RFC 9162 §2.1 (RFC 6962): SHA-256,
// leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right).
// Every function works over a NodeReader, the hashes of complete subtrees
// (as the audit log stores them), so appending, roots and proofs read
// O(log n) nodes; the overloads over a vector of leaf hashes are for tests
// and in-memory use.
//
// All hashes are 32 raw bytes.
#ifndef LIAISON_DOMAIN_MERKLE_H_
#define LIAISON_DOMAIN_MERKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison::merkle {

std::string LeafHash(absl::string_view leaf);
std::string NodeHash(absl::string_view left, absl::string_view right);

// The complete subtree over leaves [index << level, (index + 1) << level).
// Level 0 nodes are the leaf hashes.
struct Node {
  int level = 0;
  uint64_t index = 0;
  std::string hash;

  bool operator==(const Node& other) const {
    return level == other.level && index == other.index && hash == other.hash;
  }
};

// The node's place in the order in which an append-only tree completes its
// nodes (post-order: appending leaf n adds the leaf, then each subtree it
// completes, bottom up, as NodesForAppend returns them). Positions are dense
// from 0: the tree of n leaves holds exactly the nodes at positions below
// 2n - popcount(n). A store that keys nodes by it appends each new node at
// the end of one index. Requires 0 <= level and (index + 1) << level <= 2^62
// (a tree of at most 2^62 leaves), so that the position is below 2^63.
uint64_t PostOrderPosition(int level, uint64_t index);

// Returns the hash of a complete subtree the tree holds. Its errors are
// passed on.
using NodeReader =
    absl::FunctionRef<absl::StatusOr<std::string>(int level, uint64_t index)>;

// The nodes to store when leaf number `index` (0-based; the tree had `index`
// leaves) is appended with `leaf_hash`: the leaf, then each subtree it
// completes, bottom up. Reads at most log2(index + 1) nodes.
absl::StatusOr<std::vector<Node>> NodesForAppend(uint64_t index,
                                                 absl::string_view leaf_hash,
                                                 NodeReader read);

// The root of the tree of the first `size` leaves (SHA-256("") when empty).
absl::StatusOr<std::string> RootHash(uint64_t size, NodeReader read);

// As the vector overloads below, reading O(log size) nodes.
absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index,
                                                        uint64_t size,
                                                        NodeReader read);
absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t old_size,
                                                          uint64_t new_size,
                                                          NodeReader read);

// Computes a tree's root from its leaf hashes given one at a time, keeping
// only O(log n) hashes (for verifying exports of any size).
class RootBuilder {
 public:
  void Add(absl::string_view leaf_hash);
  uint64_t size() const { return size_; }
  // The root of the leaves added so far.
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  // Roots of the complete subtrees the leaves form, largest first.
  std::vector<std::string> peaks_;
};

// The root of the tree over `leaf_hashes` (SHA-256("") when empty).
std::string RootHash(const std::vector<std::string>& leaf_hashes);

// The audit path of leaf `index` in the tree of the first `size` leaves.
// INVALID_ARGUMENT unless index < size <= leaf_hashes.size().
absl::StatusOr<std::vector<std::string>> InclusionProof(
    const std::vector<std::string>& leaf_hashes, uint64_t index, uint64_t size);

// The proof that the tree of the first `old_size` leaves is a prefix of the
// tree of the first `new_size`. INVALID_ARGUMENT unless
// 0 < old_size <= new_size <= leaf_hashes.size().
absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    const std::vector<std::string>& leaf_hashes, uint64_t old_size,
    uint64_t new_size);

// RFC 9162 §2.1.3.2: does `proof` show `leaf_hash` at `index` in the tree of
// `size` with `root`?
bool VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<std::string>& proof,
                     absl::string_view root);

// RFC 9162 §2.1.4.2: does `proof` show the tree (`old_size`, `old_root`) is
// a prefix of (`new_size`, `new_root`)?
bool VerifyConsistency(uint64_t old_size, uint64_t new_size,
                       absl::string_view old_root, absl::string_view new_root,
                       const std::vector<std::string>& proof);

}  // namespace liaison::merkle

#endif  // LIAISON_DOMAIN_MERKLE_H_
