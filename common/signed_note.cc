#include "common/signed_note.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstddef>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace liaison {
namespace {

// The signature type byte of Ed25519 keys.
constexpr unsigned char kAlgEd25519 = 0x01;
constexpr absl::string_view kEd25519Byte("\x01", 1);
constexpr size_t kEd25519KeySize = 32;
constexpr size_t kEd25519SignatureSize = 64;
constexpr size_t kRootHashSize = 32;
// Go's golang.org/x/mod/sumdb/note has the same limit; the spec asks for at
// least 16.
constexpr size_t kMaxSignatures = 100;
// U+2014 EM DASH, then a space: how every signature line starts.
constexpr absl::string_view kSignaturePrefix = "\xE2\x80\x94 ";
constexpr absl::string_view kPrivateKeyPrefix = "PRIVATE+KEY+";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Overwrites a string that held key material when it goes out of scope (best
// effort: earlier reallocations may have left copies).
class Cleanser {
 public:
  explicit Cleanser(std::string* s) : s_(s) {}
  ~Cleanser() { OPENSSL_cleanse(s_->data(), s_->size()); }
  Cleanser(const Cleanser&) = delete;
  Cleanser& operator=(const Cleanser&) = delete;

 private:
  std::string* s_;
};

// An INTERNAL error with OpenSSL's reason, clearing OpenSSL's error queue so
// that nothing stale is left for other users of the thread (e.g. TLS).
absl::Status OpensslError(absl::string_view what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  char reason[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, reason, sizeof(reason));
  return absl::InternalError(absl::StrCat(what, ": ", reason));
}

// "U+00A0".
std::string CodepointName(uint32_t cp) {
  return absl::StrCat("U+", absl::AsciiStrToUpper(
                                absl::StrCat(absl::Hex(cp, absl::kZeroPad4))));
}

// `s` escaped for an error message (C escapes), cut short if long.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 80;
  if (s.size() <= kMax) return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kMax)), "\"...");
}

// Decodes the UTF-8 sequence at s[i], strictly (no overlong forms, no
// surrogates, nothing above U+10FFFF). Returns its length and sets `*cp`, or
// returns 0 if it is not valid UTF-8.
size_t DecodeUtf8(absl::string_view s, size_t i, uint32_t* cp) {
  const auto byte = [&](size_t k) -> uint32_t {
    return static_cast<unsigned char>(s[k]);
  };
  const uint32_t c0 = byte(i);
  if (c0 < 0x80) {
    *cp = c0;
    return 1;
  }
  size_t length;
  uint32_t low = 0x80, high = 0xBF;  // Valid range of the second byte.
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    length = 2;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    length = 3;
    if (c0 == 0xE0) low = 0xA0;   // Overlong.
    if (c0 == 0xED) high = 0x9F;  // Surrogates.
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    length = 4;
    if (c0 == 0xF0) low = 0x90;   // Overlong.
    if (c0 == 0xF4) high = 0x8F;  // Above U+10FFFF.
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  uint32_t value = c0 & (0x7F >> length);
  for (size_t k = 1; k < length; ++k) {
    const uint32_t c = byte(i + k);
    if ((c & 0xC0) != 0x80) return 0;
    value = (value << 6) | (c & 0x3F);
  }
  *cp = value;
  return length;
}

// Unicode White_Space, as Go's unicode.IsSpace.
bool IsUnicodeSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Unicode general category Cc.
bool IsUnicodeControl(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Checks that `s` is valid UTF-8 without ASCII control characters other than
// '\n'. `what` names `s` in the error ("signed note").
absl::Status CheckNoteCharacters(absl::string_view s, absl::string_view what) {
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t length = DecodeUtf8(s, i, &cp);
    if (length == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " line ", line, " is not valid UTF-8 (byte 0x",
          absl::Hex(static_cast<unsigned char>(s[i]), absl::kZeroPad2),
          " at column ", i - line_start + 1, ")"));
    }
    if (cp == '\n') {
      ++line;
      line_start = i + 1;
    } else if (cp < 0x20) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " line ", line, " contains the control character ",
                       CodepointName(cp), " at column ", i - line_start + 1,
                       "; only newlines are allowed"));
    }
    i += length;
  }
  return absl::OkStatus();
}

// What is wrong with a key name, or "" if nothing. The spec forbids empty
// names and names with Unicode white space or '+'; `strict` also forbids
// control characters (C0, DEL, C1), for the names of our own keys.
std::string KeyNameProblem(absl::string_view name, bool strict) {
  if (name.empty()) return "key name is empty";
  if (absl::StrContains(name, '+')) {
    return absl::StrCat("key name ", Quote(name), " contains '+'");
  }
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    const size_t length = DecodeUtf8(name, i, &cp);
    if (length == 0) {
      return absl::StrCat("key name ", Quote(name), " is not valid UTF-8");
    }
    if (IsUnicodeSpace(cp)) {
      return absl::StrCat("key name ", Quote(name), " contains white space (",
                          CodepointName(cp), ")");
    }
    if (strict && IsUnicodeControl(cp)) {
      return absl::StrCat("key name ", Quote(name),
                          " contains the control character ",
                          CodepointName(cp));
    }
    i += length;
  }
  return "";
}

// Decodes standard base64 with padding, accepting only the canonical
// encoding (the one absl::Base64Escape produces). absl::Base64Unescape alone
// also takes missing padding and non-zero trailing bits.
bool DecodeCanonicalBase64(absl::string_view b64, std::string* out) {
  if (!absl::Base64Unescape(b64, out)) return false;
  std::string reencoded = absl::Base64Escape(*out);
  Cleanser cleanser(&reencoded);  // It may encode a private key.
  return reencoded == b64;
}

std::string KeyIdBytes(uint32_t key_id) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((key_id >> (24 - 8 * i)) & 0xFF);
  }
  return out;
}

uint32_t KeyIdFromBytes(absl::string_view bytes) {
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) {
    id = (id << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return id;
}

std::string FormatKeyId(uint32_t key_id) {
  return HexEncode(KeyIdBytes(key_id));
}

// Parses "<name>+<8 hex digits>+<base64>" (a key text after "PRIVATE+KEY+")
// into its parts; `decoded` gets the base64 bytes, for the caller to check.
// `what` names the key in errors ("private key").
absl::Status ParseKeyFields(absl::string_view text, absl::string_view what,
                            std::string* name, uint32_t* key_id,
                            std::string* decoded) {
  const size_t plus1 = text.find('+');
  const size_t plus2 =
      plus1 == absl::string_view::npos ? plus1 : text.find('+', plus1 + 1);
  if (plus2 == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not of the form <name>+<key id>+<base64 key>"));
  }
  const absl::string_view name_part = text.substr(0, plus1);
  const absl::string_view id_part = text.substr(plus1 + 1, plus2 - plus1 - 1);
  const absl::string_view key_part = text.substr(plus2 + 1);

  const std::string problem = KeyNameProblem(name_part, /*strict=*/true);
  if (!problem.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", problem));
  }
  bool hex = id_part.size() == 8;
  for (char c : id_part) hex = hex && absl::ascii_isxdigit(c);
  if (!hex) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": key id ", Quote(id_part), " is not 8 hexadecimal digits"));
  }
  uint32_t id = 0;
  for (char c : id_part) {
    const int digit =
        absl::ascii_isdigit(c) ? c - '0' : absl::ascii_tolower(c) - 'a' + 10;
    id = (id << 4) | static_cast<uint32_t>(digit);
  }
  if (key_part.empty() || !DecodeCanonicalBase64(key_part, decoded)) {
    // The key itself is not quoted: it may be a private key.
    return absl::InvalidArgumentError(absl::StrCat(
        what, " for ", Quote(name_part), ": key is not canonical base64"));
  }
  if (decoded->empty() ||
      static_cast<unsigned char>((*decoded)[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " for ", Quote(name_part), ": unsupported algorithm byte 0x",
        absl::Hex(decoded->empty() ? 0 : (*decoded)[0] & 0xFF, absl::kZeroPad2),
        "; only Ed25519 (0x01) is supported"));
  }
  if (decoded->size() != 1 + kEd25519KeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " for ", Quote(name_part), ": Ed25519 key is ",
        decoded->size() - 1, " bytes; expected ", kEd25519KeySize));
  }
  *name = std::string(name_part);
  *key_id = id;
  return absl::OkStatus();
}

absl::Status CheckKeyId(absl::string_view what, absl::string_view name,
                        uint32_t key_id, absl::string_view public_key) {
  const uint32_t expected = NoteKeyId(name, public_key);
  if (key_id != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " for ", Quote(name), ": key id ", FormatKeyId(key_id),
        " does not match the name and key (expected ", FormatKeyId(expected),
        ")"));
  }
  return absl::OkStatus();
}

// An Ed25519 key from its 32-byte seed, and its raw public key.
absl::StatusOr<std::shared_ptr<EVP_PKEY>> Ed25519FromSeed(
    absl::string_view seed, std::string* public_key) {
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (raw == nullptr) return OpensslError("cannot load Ed25519 private key");
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  unsigned char buffer[kEd25519KeySize];
  size_t length = sizeof(buffer);
  if (EVP_PKEY_get_raw_public_key(key.get(), buffer, &length) != 1 ||
      length != kEd25519KeySize) {
    return OpensslError("cannot derive Ed25519 public key");
  }
  public_key->assign(reinterpret_cast<const char*>(buffer), length);
  return key;
}

// A parsed signature line.
struct SignatureLine {
  int line;  // 1-based line number in the note.
  absl::string_view name;
  uint32_t key_id;
  std::string signature;  // Without the key id.
};

}  // namespace

absl::Status ValidateNoteKeyName(absl::string_view name) {
  const std::string problem = KeyNameProblem(name, /*strict=*/true);
  if (!problem.empty()) return absl::InvalidArgumentError(problem);
  return absl::OkStatus();
}

absl::Status ValidateNoteText(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("note text is empty");
  LIAISON_RETURN_IF_ERROR(CheckNoteCharacters(text, "note text"));
  if (text.back() != '\n') {
    return absl::InvalidArgumentError("note text does not end with a newline");
  }
  return absl::OkStatus();
}

uint32_t NoteKeyId(absl::string_view name, absl::string_view public_key) {
  const std::string digest =
      Sha256(absl::StrCat(name, "\n", kEd25519Byte, public_key));
  return KeyIdFromBytes(digest);
}

absl::StatusOr<NoteSigner> NoteSigner::FromPrivateKey(
    absl::string_view private_key) {
  constexpr absl::string_view kWhat = "private key";
  const absl::string_view text = absl::StripAsciiWhitespace(private_key);
  if (!absl::StartsWith(text, kPrivateKeyPrefix)) {
    return absl::InvalidArgumentError(
        "private key does not start with \"PRIVATE+KEY+\"");
  }
  std::string name;
  uint32_t key_id = 0;
  std::string decoded;
  Cleanser cleanser(&decoded);
  LIAISON_RETURN_IF_ERROR(ParseKeyFields(text.substr(kPrivateKeyPrefix.size()),
                                         kWhat, &name, &key_id, &decoded));
  std::string public_key;
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<EVP_PKEY> key,
      Ed25519FromSeed(absl::string_view(decoded).substr(1), &public_key));
  LIAISON_RETURN_IF_ERROR(CheckKeyId(kWhat, name, key_id, public_key));
  return NoteSigner(std::move(name), key_id, std::move(public_key),
                    std::move(key));
}

std::string NoteSigner::VerifierKey() const {
  return absl::StrCat(
      name_, "+", FormatKeyId(key_id_), "+",
      absl::Base64Escape(absl::StrCat(kEd25519Byte, public_key_)));
}

absl::StatusOr<std::string> NoteSigner::Sign(absl::string_view text) const {
  LIAISON_RETURN_IF_ERROR(ValidateNoteText(text));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpensslError("cannot sign note");
  unsigned char signature[kEd25519SignatureSize];
  size_t length = sizeof(signature);
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), signature, &length,
                     reinterpret_cast<const unsigned char*>(text.data()),
                     text.size()) != 1 ||
      length != kEd25519SignatureSize) {
    return OpensslError("cannot sign note");
  }
  return absl::StrCat(
      text, "\n", kSignaturePrefix, name_, " ",
      absl::Base64Escape(absl::StrCat(
          KeyIdBytes(key_id_),
          absl::string_view(reinterpret_cast<const char*>(signature), length))),
      "\n");
}

absl::StatusOr<NoteVerifier> NoteVerifier::FromVerifierKey(
    absl::string_view verifier_key) {
  constexpr absl::string_view kWhat = "verifier key";
  const absl::string_view text = absl::StripAsciiWhitespace(verifier_key);
  if (absl::StartsWith(text, kPrivateKeyPrefix)) {
    // Not parsed further: the message must not echo a private key.
    return absl::InvalidArgumentError(
        "verifier key is a private key (\"PRIVATE+KEY+...\"); use the "
        "verifier key");
  }
  std::string name;
  uint32_t key_id = 0;
  std::string decoded;
  LIAISON_RETURN_IF_ERROR(
      ParseKeyFields(text, kWhat, &name, &key_id, &decoded));
  const absl::string_view public_key = absl::string_view(decoded).substr(1);
  LIAISON_RETURN_IF_ERROR(CheckKeyId(kWhat, name, key_id, public_key));
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (raw == nullptr) return OpensslError("cannot load Ed25519 public key");
  return NoteVerifier(std::move(name), key_id,
                      std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free));
}

absl::StatusOr<std::string> NoteVerifier::Open(absl::string_view note) const {
  LIAISON_RETURN_IF_ERROR(CheckNoteCharacters(note, "signed note"));
  if (note.empty()) return absl::InvalidArgumentError("signed note is empty");
  if (note.back() != '\n') {
    return absl::InvalidArgumentError(
        "signed note does not end with a newline");
  }
  // The text ends at the last blank line; signature lines follow.
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "signed note has no blank line between its text and its signatures");
  }
  const absl::string_view text = note.substr(0, split + 1);
  absl::string_view rest = note.substr(split + 2);
  if (rest.empty()) {
    return absl::InvalidArgumentError(
        "signed note has no signature lines after its last blank line");
  }

  // Parse all signature lines first, so that a malformed note is reported as
  // such whatever the order of its lines.
  std::vector<SignatureLine> signatures;
  int line = 2;  // The blank line's number is that of the text's lines + 1.
  for (char c : text) line += c == '\n';
  while (!rest.empty()) {
    // `rest` ends with '\n', as `note` does.
    const size_t end = rest.find('\n');
    absl::string_view content = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    const std::string where = absl::StrCat("signed note line ", line);
    if (signatures.size() == kMaxSignatures) {
      return absl::InvalidArgumentError(absl::StrCat(
          "signed note has more than ", kMaxSignatures, " signatures"));
    }
    if (!absl::ConsumePrefix(&content, kSignaturePrefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          " is not a signature line (\"\xE2\x80\x94 <key name> <base64>\"): ",
          Quote(content)));
    }
    const size_t space = content.find(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where,
                       ": signature line has no space between key name and "
                       "signature: ",
                       Quote(content)));
    }
    const absl::string_view name = content.substr(0, space);
    const absl::string_view b64 = content.substr(space + 1);
    const std::string problem = KeyNameProblem(name, /*strict=*/false);
    if (!problem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", problem));
    }
    std::string decoded;
    if (b64.empty() || !DecodeCanonicalBase64(b64, &decoded)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": signature by ", Quote(name),
                       " is not canonical base64: ", Quote(b64)));
    }
    if (decoded.size() < 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": signature by ", Quote(name), " is ", decoded.size(),
          " bytes; it needs a 4-byte key id and a signature"));
    }
    signatures.push_back(
        SignatureLine{line, name, KeyIdFromBytes(decoded), decoded.substr(4)});
    ++line;
  }

  const std::string key = absl::StrCat(name_, "+", FormatKeyId(key_id_));
  int verified = 0;
  std::vector<std::string> other_ids;  // Same name, other key ids.
  for (const SignatureLine& signature : signatures) {
    if (signature.name != name_) continue;
    if (signature.key_id != key_id_) {
      other_ids.push_back(FormatKeyId(signature.key_id));
      continue;
    }
    // The spec: a signature by a known key MUST be verified, and if one
    // fails the whole note SHOULD be rejected. So every one counts.
    if (signature.signature.size() != kEd25519SignatureSize) {
      return absl::PermissionDeniedError(absl::StrCat(
          "signature by ", name_, " does not verify (key ", key, ", line ",
          signature.line, "): it is ", signature.signature.size(),
          " bytes; an Ed25519 signature has ", kEd25519SignatureSize));
    }
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (ctx == nullptr) return OpensslError("cannot verify note");
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                             key_.get()) != 1) {
      return OpensslError("cannot verify note");
    }
    const int ok = EVP_DigestVerify(
        ctx.get(),
        reinterpret_cast<const unsigned char*>(signature.signature.data()),
        signature.signature.size(),
        reinterpret_cast<const unsigned char*>(text.data()), text.size());
    if (ok != 1) {
      ERR_clear_error();
      return absl::PermissionDeniedError(absl::StrCat(
          "signature by ", name_, " does not verify (key ", key, ", line ",
          signature.line, "): the note text or the signature was altered"));
    }
    ++verified;
  }
  if (verified == 0) {
    std::string message = absl::StrCat("note has no signature by key ", name_,
                                       " (key id ", FormatKeyId(key_id_), ")");
    if (!other_ids.empty()) {
      absl::StrAppend(&message, "; it is signed by ", name_,
                      " with other key ids: ", absl::StrJoin(other_ids, ", "));
    }
    return absl::PermissionDeniedError(message);
  }
  return std::string(text);
}

absl::StatusOr<std::string> GenerateNotePrivateKey(absl::string_view name) {
  LIAISON_RETURN_IF_ERROR(ValidateNoteKeyName(name));
  std::string seed(kEd25519KeySize, '\0');
  Cleanser seed_cleanser(&seed);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()),
                 static_cast<int>(seed.size())) != 1) {
    return OpensslError("cannot generate a random Ed25519 seed");
  }
  std::string public_key;
  LIAISON_RETURN_IF_ERROR(Ed25519FromSeed(seed, &public_key).status());
  std::string encoded;
  encoded.reserve(1 + kEd25519KeySize);
  encoded.append(kEd25519Byte.data(), kEd25519Byte.size());
  encoded.append(seed);
  Cleanser encoded_cleanser(&encoded);
  return absl::StrCat(kPrivateKeyPrefix, name, "+",
                      FormatKeyId(NoteKeyId(name, public_key)), "+",
                      absl::Base64Escape(encoded));
}

std::string FormatCheckpoint(const CheckpointBody& c) {
  std::string out = absl::StrCat(c.origin, "\n", c.size, "\n",
                                 absl::Base64Escape(c.root_hash), "\n");
  for (const std::string& extension : c.extensions) {
    absl::StrAppend(&out, extension, "\n");
  }
  return out;
}

absl::StatusOr<CheckpointBody> ParseCheckpoint(absl::string_view text) {
  LIAISON_RETURN_IF_ERROR(CheckNoteCharacters(text, "checkpoint"));
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint does not end with a newline");
  }
  std::vector<absl::string_view> lines =
      absl::StrSplit(text.substr(0, text.size() - 1), '\n');
  if (lines.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint has ", lines.size(), lines.size() == 1 ? " line" : " lines",
        "; it needs at least 3 (origin, tree size, root hash)"));
  }
  CheckpointBody c;
  if (lines[0].empty()) {
    return absl::InvalidArgumentError("checkpoint line 1 (origin) is empty");
  }
  c.origin = std::string(lines[0]);

  const absl::string_view size = lines[1];
  if (size.empty()) {
    return absl::InvalidArgumentError("checkpoint line 2 (tree size) is empty");
  }
  for (char d : size) {
    if (!absl::ascii_isdigit(d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint line 2 (tree size) ", Quote(size),
                       " is not a decimal number"));
    }
  }
  if (size.size() > 1 && size[0] == '0') {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint line 2 (tree size) ", Quote(size), " has leading zeros"));
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char d : size) {
    const uint64_t digit = static_cast<uint64_t>(d - '0');
    if (c.size > (kMax - digit) / 10) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint line 2 (tree size) ", Quote(size),
                       " does not fit in 64 bits"));
    }
    c.size = c.size * 10 + digit;
  }

  const absl::string_view root = lines[2];
  if (root.empty()) {
    return absl::InvalidArgumentError("checkpoint line 3 (root hash) is empty");
  }
  if (!DecodeCanonicalBase64(root, &c.root_hash)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint line 3 (root hash) ", Quote(root),
                     " is not canonical base64"));
  }
  if (c.root_hash.size() != kRootHashSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint line 3 (root hash) decodes to ", c.root_hash.size(),
        " bytes; a root hash has ", kRootHashSize));
  }

  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint line ", i + 1, " (extension) is empty"));
    }
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

}  // namespace liaison
