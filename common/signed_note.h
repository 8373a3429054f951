// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and the
// C2SP tlog-checkpoint note body (https://c2sp.org/tlog-checkpoint).
//
// A signed note is a text ending in a newline, a blank line, and one or more
// signature lines "— <key name> <base64(4-byte key id || signature)>\n". Key
// texts are those of golang.org/x/mod/sumdb/note, so notes signed here verify
// with the Go tooling and vice versa:
//
//   private key:  PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 || seed)>
//   verifier key: <name>+<8 hex key id>+<base64(0x01 || public key)>
//
// where the key id is the first four bytes, big-endian, of
// SHA-256(name || "\n" || 0x01 || 32-byte Ed25519 public key).
#ifndef LIAISON_COMMON_SIGNED_NOTE_H_
#define LIAISON_COMMON_SIGNED_NOTE_H_

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison {

// Checks a key name: non-empty, valid UTF-8, and without Unicode white space,
// '+' or Unicode control characters (C0, DEL, C1). '/' is allowed, names are
// typically schema-less URLs ("example.com/log"). INVALID_ARGUMENT saying
// what is wrong otherwise.
absl::Status ValidateNoteKeyName(absl::string_view name);

// Checks that `text` can be the text of a signed note: non-empty, ending in
// '\n', valid UTF-8, and without ASCII control characters other than '\n'.
// INVALID_ARGUMENT with the line that is wrong otherwise.
absl::Status ValidateNoteText(absl::string_view text);

// The key id of an Ed25519 key: the first four bytes, big-endian, of
// SHA-256(name || "\n" || 0x01 || public_key). `public_key` is the raw 32
// bytes.
uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key);

// Signs notes with one Ed25519 key. Copies share the key; Sign may be called
// from several threads at once.
class NoteSigner {
 public:
  // Loads a private key text "PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01
  // || 32-byte seed)>". Surrounding white space (e.g. the trailing newline of
  // a key file) is ignored. INVALID_ARGUMENT on any defect: wrong prefix,
  // invalid name, key id not 8 hex digits, base64 not canonical, algorithm
  // byte other than 0x01 (Ed25519), seed not 32 bytes, or key id not matching
  // the name and key. The messages never contain key material.
  static absl::StatusOr<NoteSigner> FromPrivateKey(
      absl::string_view private_key);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }

  // The verifier key text "<name>+<8 lower-case hex key id>+<base64(0x01 ||
  // 32-byte public key)>".
  std::string VerifierKey() const;

  // Signs `text`, which must satisfy ValidateNoteText, and returns the signed
  // note: text + "\n" + "— <name> <base64(key id || signature)>\n".
  // INVALID_ARGUMENT if the text is not a valid note text; INTERNAL if
  // OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view text) const;

 private:
  NoteSigner(std::string name, uint32_t key_id, std::string public_key,
             std::shared_ptr<EVP_PKEY> key)
      : name_(std::move(name)),
        key_id_(key_id),
        public_key_(std::move(public_key)),
        key_(std::move(key)) {}

  std::string name_;
  uint32_t key_id_;
  std::string public_key_;  // Raw, 32 bytes.
  std::shared_ptr<EVP_PKEY> key_;
};

// Verifies notes against one Ed25519 verifier key. Copies share the key; Open
// may be called from several threads at once.
class NoteVerifier {
 public:
  // Loads a verifier key text "<name>+<8 hex key id>+<base64(0x01 || 32-byte
  // public key)>". Surrounding white space is ignored. INVALID_ARGUMENT on any
  // defect: invalid name, key id not 8 hex digits, base64 not canonical,
  // algorithm byte other than 0x01 (Ed25519), key not 32 bytes, or key id not
  // matching the name and key.
  static absl::StatusOr<NoteVerifier> FromVerifierKey(
      absl::string_view verifier_key);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }

  // Parses the signed note `note` and checks that it carries a valid
  // signature by this key, i.e. a signature line with this key's name and key
  // id. Signature lines of other keys (other name or other key id) are parsed
  // but otherwise ignored, as the spec requires. Returns the note text: the
  // part that is signed, up to and including the '\n' before the last blank
  // line.
  //
  // INVALID_ARGUMENT if the note is malformed: not valid UTF-8, an ASCII
  // control character other than '\n', no blank line before the signatures,
  // no signature lines, a signature line not of the form "— <name>
  // <base64>\n" with a valid name and canonical base64 of at least 5 bytes,
  // no final newline, or more than 100 signatures.
  // PERMISSION_DENIED if no signature line is by this key ("note has no
  // signature by key <name> ...") or one that is does not verify ("signature
  // by <name> does not verify ..."): every line by this key must verify.
  absl::StatusOr<std::string> Open(absl::string_view note) const;

 private:
  NoteVerifier(std::string name, uint32_t key_id, std::shared_ptr<EVP_PKEY> key)
      : name_(std::move(name)), key_id_(key_id), key_(std::move(key)) {}

  std::string name_;
  uint32_t key_id_;
  std::shared_ptr<EVP_PKEY> key_;
};

// Generates a fresh Ed25519 key named `name` and returns its private key text
// (for NoteSigner::FromPrivateKey; NoteSigner::VerifierKey gives the verifier
// key). INVALID_ARGUMENT if `name` fails ValidateNoteKeyName; INTERNAL if the
// random generator or OpenSSL fails.
absl::StatusOr<std::string> GenerateNotePrivateKey(absl::string_view name);

// The text of a transparency-log checkpoint (c2sp.org/tlog-checkpoint).
struct CheckpointBody {
  // Identifies the log; non-empty, one line.
  std::string origin;
  // Number of leaves in the tree.
  uint64_t size = 0;
  // RFC 6962 Merkle tree root hash, 32 raw bytes.
  std::string root_hash;
  // Optional extra lines, each non-empty and without '\n'.
  std::vector<std::string> extensions;
};

// "<origin>\n<size>\n<base64 root hash>\n" followed by each extension and
// "\n". It does not check `c`: text formatted from a CheckpointBody that
// breaks the rules in its comments fails ParseCheckpoint.
std::string FormatCheckpoint(const CheckpointBody& c);

// Parses a checkpoint text (as returned by NoteVerifier::Open). Strict:
// the text must be a valid note text (ValidateNoteText) of at least three
// lines, all non-empty; the origin (line 1) anything non-empty; the tree size
// (line 2) decimal digits without leading zeros (except "0") that fit in 64
// bits; the root hash (line 3) canonical base64 of exactly 32 bytes; lines
// after that are extensions. INVALID_ARGUMENT naming the line that is wrong
// otherwise.
absl::StatusOr<CheckpointBody> ParseCheckpoint(absl::string_view text);

}  // namespace liaison

#endif  // LIAISON_COMMON_SIGNED_NOTE_H_
