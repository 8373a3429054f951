#include "domain/merkle.h"

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace liaison::merkle {
namespace {

using Leaves = std::vector<std::string>;
using Hashes = std::vector<std::string>;

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

int Log2(uint64_t power_of_two) {
  int level = 0;
  while ((uint64_t{1} << level) < power_of_two) ++level;
  return level;
}

// MTH(D[begin:end]) of RFC 9162 §2.1.1. Every subtree the RFC's recursions
// visit starts at a multiple of its own split point, so a subtree whose size
// is a power of two is a stored node; others combine O(log n) stored nodes.
absl::StatusOr<std::string> SubtreeHash(NodeReader read, uint64_t begin,
                                        uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return Sha256("");
  if ((n & (n - 1)) == 0) {
    const int level = Log2(n);
    return read(level, begin >> level);
  }
  const uint64_t k = SplitPoint(n);
  absl::StatusOr<std::string> left = SubtreeHash(read, begin, begin + k);
  if (!left.ok()) return left.status();
  absl::StatusOr<std::string> right = SubtreeHash(read, begin + k, end);
  if (!right.ok()) return right.status();
  return NodeHash(*left, *right);
}

// Appends the hash of D[begin:end] to `out`.
absl::Status AppendHash(NodeReader read, uint64_t begin, uint64_t end,
                        Hashes& out) {
  absl::StatusOr<std::string> hash = SubtreeHash(read, begin, end);
  if (!hash.ok()) return hash.status();
  out.push_back(*std::move(hash));
  return absl::OkStatus();
}

// After recursing into one half of D[begin:end] (split at k), appends the
// other half's hash: the sibling on the way up.
absl::Status AppendSibling(NodeReader read, bool went_left, uint64_t begin,
                           uint64_t k, uint64_t end, Hashes& out) {
  return went_left ? AppendHash(read, begin + k, end, out)
                   : AppendHash(read, begin, begin + k, out);
}

// RFC 9162 §2.1.3.1 PATH(m, D[begin:end]), appended to `out` bottom up.
absl::Status Path(NodeReader read, uint64_t m, uint64_t begin, uint64_t end,
                  Hashes& out) {
  const uint64_t n = end - begin;
  if (n <= 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  const bool left = m < k;
  absl::Status status = left ? Path(read, m, begin, begin + k, out)
                             : Path(read, m - k, begin + k, end, out);
  if (!status.ok()) return status;
  return AppendSibling(read, left, begin, k, end, out);
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[begin:end], b), appended to `out`.
absl::Status SubProof(NodeReader read, uint64_t m, uint64_t begin, uint64_t end,
                      bool whole, Hashes& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    return whole ? absl::OkStatus() : AppendHash(read, begin, end, out);
  }
  const uint64_t k = SplitPoint(n);
  const bool left = m <= k;
  absl::Status status = left
                            ? SubProof(read, m, begin, begin + k, whole, out)
                            : SubProof(read, m - k, begin + k, end, false, out);
  if (!status.ok()) return status;
  return AppendSibling(read, left, begin, k, end, out);
}

// Reads complete subtrees by hashing the leaves under them (O(n) per proof;
// for tests and small in-memory trees).
auto InMemory(const Leaves& leaves) {
  return [&leaves](int level, uint64_t index) -> absl::StatusOr<std::string> {
    const uint64_t begin = index << level;
    const uint64_t end = (index + 1) << level;
    if (end > leaves.size()) {
      return absl::OutOfRangeError(
          absl::StrCat("no subtree of ", end - begin, " leaves at ", begin));
    }
    RootBuilder builder;
    for (uint64_t i = begin; i < end; ++i) builder.Add(leaves[i]);
    return builder.Root();
  };
}

}  // namespace

std::string LeafHash(absl::string_view leaf) {
  return Sha256(absl::StrCat(absl::string_view("\x00", 1), leaf));
}

std::string NodeHash(absl::string_view left, absl::string_view right) {
  return Sha256(absl::StrCat("\x01", left, right));
}

uint64_t PostOrderPosition(int level, uint64_t index) {
  // The subtree is completed by appending its last leaf; the nodes before
  // that append are those of the tree of `last` leaves.
  const uint64_t last = ((index + 1) << level) - 1;
  return 2 * last - static_cast<uint64_t>(absl::popcount(last)) +
         static_cast<uint64_t>(level);
}

absl::StatusOr<std::vector<Node>> NodesForAppend(uint64_t index,
                                                 absl::string_view leaf_hash,
                                                 NodeReader read) {
  std::vector<Node> nodes;
  nodes.push_back(Node{0, index, std::string(leaf_hash)});
  while ((nodes.back().index & 1) == 1) {
    const Node& right = nodes.back();
    absl::StatusOr<std::string> left = read(right.level, right.index - 1);
    if (!left.ok()) return left.status();
    Node parent{right.level + 1, right.index >> 1, NodeHash(*left, right.hash)};
    nodes.push_back(std::move(parent));
  }
  return nodes;
}

absl::StatusOr<std::string> RootHash(uint64_t size, NodeReader read) {
  return SubtreeHash(read, 0, size);
}

absl::StatusOr<Hashes> InclusionProof(uint64_t index, uint64_t size,
                                      NodeReader read) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("no leaf ", index, " in a tree of ", size));
  }
  Hashes proof;
  absl::Status status = Path(read, index, 0, size, proof);
  if (!status.ok()) return status;
  return proof;
}

absl::StatusOr<Hashes> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                        NodeReader read) {
  if (!(0 < old_size && old_size <= new_size)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no consistency proof from size ", old_size, " to ", new_size));
  }
  Hashes proof;
  absl::Status status = SubProof(read, old_size, 0, new_size, true, proof);
  if (!status.ok()) return status;
  return proof;
}

void RootBuilder::Add(absl::string_view leaf_hash) {
  // The peaks mirror the binary digits of size_: adding a leaf carries.
  std::string hash(leaf_hash);
  for (uint64_t n = size_; (n & 1) == 1; n >>= 1) {
    hash = NodeHash(peaks_.back(), hash);
    peaks_.pop_back();
  }
  peaks_.push_back(std::move(hash));
  ++size_;
}

std::string RootBuilder::Root() const {
  if (peaks_.empty()) return Sha256("");
  std::string root = peaks_.back();
  for (size_t i = peaks_.size() - 1; i-- > 0;) root = NodeHash(peaks_[i], root);
  return root;
}

std::string RootHash(const Leaves& leaf_hashes) {
  RootBuilder builder;
  for (const std::string& leaf : leaf_hashes) builder.Add(leaf);
  return builder.Root();
}

absl::StatusOr<Hashes> InclusionProof(const Leaves& leaves, uint64_t index,
                                      uint64_t size) {
  if (!(index < size && size <= leaves.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("no leaf ", index, " in a tree of ", size, " (",
                     leaves.size(), " leaves known)"));
  }
  return InclusionProof(index, size, InMemory(leaves));
}

absl::StatusOr<Hashes> ConsistencyProof(const Leaves& leaves, uint64_t old_size,
                                        uint64_t new_size) {
  if (!(0 < old_size && old_size <= new_size && new_size <= leaves.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("no consistency proof from size ", old_size, " to ",
                     new_size, " (", leaves.size(), " leaves known)"));
  }
  return ConsistencyProof(old_size, new_size, InMemory(leaves));
}

bool VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<std::string>& proof,
                     absl::string_view root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size,
                       absl::string_view old_root, absl::string_view new_root,
                       const std::vector<std::string>& proof) {
  if (old_size == 0 || old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  std::vector<std::string> path = proof;
  // If old_size is a power of two, the old root is the first node.
  if ((old_size & (old_size - 1)) == 0) {
    path.insert(path.begin(), std::string(old_root));
  }
  if (path.empty()) return false;
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

}  // namespace liaison::merkle
