// Merkle tree hashing and proofs as in RFC 9162 §2.1 (RFC 6962): SHA-256,
// leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right).
// Groundwork for the verifiable audit log (issue 6): these functions compute
// over leaf hashes in memory; the stored, O(log n) tree is built on them.
//
// Pure functions; all hashes are 32 raw bytes.
#ifndef LIAISON_DOMAIN_MERKLE_H_
#define LIAISON_DOMAIN_MERKLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison::merkle {

std::string LeafHash(absl::string_view leaf);
std::string NodeHash(absl::string_view left, absl::string_view right);

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
