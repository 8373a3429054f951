#include "domain/merkle.h"

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace liaison::merkle {
namespace {

using Leaves = std::vector<std::string>;

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

std::string Root(const Leaves& leaves, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return leaves[begin];
  const uint64_t k = SplitPoint(n);
  return NodeHash(Root(leaves, begin, begin + k), Root(leaves, begin + k, end));
}

// RFC 9162 §2.1.3.1 PATH(m, D[begin:end]).
void Path(const Leaves& leaves, uint64_t m, uint64_t begin, uint64_t end,
          std::vector<std::string>& out) {
  const uint64_t n = end - begin;
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(leaves, m, begin, begin + k, out);
    out.push_back(Root(leaves, begin + k, end));
  } else {
    Path(leaves, m - k, begin + k, end, out);
    out.push_back(Root(leaves, begin, begin + k));
  }
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[begin:end], b).
void SubProof(const Leaves& leaves, uint64_t m, uint64_t begin, uint64_t end,
              bool whole, std::vector<std::string>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(Root(leaves, begin, end));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(leaves, m, begin, begin + k, whole, out);
    out.push_back(Root(leaves, begin + k, end));
  } else {
    SubProof(leaves, m - k, begin + k, end, false, out);
    out.push_back(Root(leaves, begin, begin + k));
  }
}

}  // namespace

std::string LeafHash(absl::string_view leaf) {
  return Sha256(absl::StrCat(absl::string_view("\x00", 1), leaf));
}

std::string NodeHash(absl::string_view left, absl::string_view right) {
  return Sha256(absl::StrCat("\x01", left, right));
}

std::string RootHash(const Leaves& leaf_hashes) {
  return Root(leaf_hashes, 0, leaf_hashes.size());
}

absl::StatusOr<std::vector<std::string>> InclusionProof(const Leaves& leaves,
                                                        uint64_t index,
                                                        uint64_t size) {
  if (!(index < size && size <= leaves.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("no leaf ", index, " in a tree of ", size, " (",
                     leaves.size(), " leaves known)"));
  }
  std::vector<std::string> proof;
  Path(leaves, index, 0, size, proof);
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(const Leaves& leaves,
                                                          uint64_t old_size,
                                                          uint64_t new_size) {
  if (!(0 < old_size && old_size <= new_size && new_size <= leaves.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("no consistency proof from size ", old_size, " to ",
                     new_size, " (", leaves.size(), " leaves known)"));
  }
  std::vector<std::string> proof;
  SubProof(leaves, old_size, 0, new_size, true, proof);
  return proof;
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
