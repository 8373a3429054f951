#include "common/signed_note.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The published vectors of golang.org/x/mod/sumdb/note (note_test.go).
constexpr char kPeterPrivateKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kPeterVerifierKey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kEnochVerifierKey[] =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
constexpr char kText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kPeterSig[] =
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNI"
    "uGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr char kEnochSig[] =
    "\xE2\x80\x94 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n"
    "2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

std::string PeterNote() { return absl::StrCat(kText, "\n", kPeterSig); }

NoteSigner Peter() {
  absl::StatusOr<NoteSigner> signer =
      NoteSigner::FromPrivateKey(kPeterPrivateKey);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return *std::move(signer);
}

NoteVerifier Verifier(absl::string_view key) {
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(key);
  EXPECT_TRUE(verifier.ok()) << verifier.status();
  return *std::move(verifier);
}

NoteSigner NewSigner(absl::string_view name) {
  absl::StatusOr<std::string> key = GenerateNotePrivateKey(name);
  EXPECT_TRUE(key.ok()) << key.status();
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(*key);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return *std::move(signer);
}

TEST(SignedNoteTest, GoVectorKeys) {
  const NoteSigner signer = Peter();
  EXPECT_EQ(signer.name(), "PeterNeumann");
  EXPECT_EQ(signer.key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer.VerifierKey(), kPeterVerifierKey);

  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  EXPECT_EQ(verifier.name(), "PeterNeumann");
  EXPECT_EQ(verifier.key_id(), 0xc74f20a3u);
  EXPECT_EQ(Verifier(kEnochVerifierKey).key_id(), 0xaf0cfe78u);
}

TEST(SignedNoteTest, GoVectorSignIsByteExact) {
  // Ed25519 is deterministic: the published note must come out exactly.
  absl::StatusOr<std::string> note = Peter().Sign(kText);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, PeterNote());
}

TEST(SignedNoteTest, GoVectorOpen) {
  absl::StatusOr<std::string> text =
      Verifier(kPeterVerifierKey).Open(PeterNote());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, kText);
}

TEST(SignedNoteTest, OtherSignaturesAreIgnored) {
  const std::string both = absl::StrCat(kText, "\n", kPeterSig, kEnochSig);
  for (const char* key : {kPeterVerifierKey, kEnochVerifierKey}) {
    absl::StatusOr<std::string> text = Verifier(key).Open(both);
    ASSERT_TRUE(text.ok()) << key << ": " << text.status();
    EXPECT_EQ(*text, kText);
  }
  // Only Enoch signed: not good enough for Peter's verifier.
  absl::StatusOr<std::string> text =
      Verifier(kPeterVerifierKey).Open(absl::StrCat(kText, "\n", kEnochSig));
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(text.status().message(),
              HasSubstr("no signature by key PeterNeumann"));
}

TEST(SignedNoteTest, GoVectorInvalidSignature) {
  const std::string sig = kPeterSig;
  absl::StatusOr<std::string> text =
      Verifier(kPeterVerifierKey)
          .Open(absl::StrCat(kText, "\n", sig.substr(0, 60), "ABCD",
                             sig.substr(60)));
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(text.status().message(),
              HasSubstr("signature by PeterNeumann does not verify"));
}

TEST(SignedNoteTest, GoVectorWrongNameOrKeyId) {
  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  const std::string misnamed =
      absl::StrReplaceAll(kPeterSig, {{"PeterNeumann", "CarmenSandiego"}});
  const std::string wrong_id =
      absl::StrReplaceAll(kPeterSig, {{"x08g", "xxxx"}});
  for (const std::string& sig : {misnamed, wrong_id}) {
    absl::StatusOr<std::string> text =
        verifier.Open(absl::StrCat(kText, "\n", sig));
    EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied) << sig;
    EXPECT_THAT(text.status().message(),
                HasSubstr("no signature by key PeterNeumann"));
  }
}

TEST(SignedNoteTest, GoVectorMalformedNotes) {
  const std::string text = kText;
  const std::string sig = kPeterSig;
  const std::vector<std::string> bad = {
      text,
      text + "\n",
      text + "\n" + sig.substr(0, sig.size() - 1),
      "\x01" + text + "\n" + sig,
      "\xff" + text + "\n" + sig,
      text + "\n" +
          "\xE2\x80\x94 Bad Name "
          "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
          "qdngotpRZb6KE6RyyBwJnAM=",
      text + "\n" + sig + "Unexpected line.\n",
  };
  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  for (const std::string& note : bad) {
    EXPECT_EQ(verifier.Open(note).status().code(),
              absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(note);
  }
}

TEST(SignedNoteTest, MalformedNotes) {
  const std::string text = kText;
  const std::string sig = kPeterSig;
  const std::string dash = "\xE2\x80\x94 ";
  struct Case {
    std::string note;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {text + sig, "no blank line"},
      {text + "\n", "no signature lines"},
      {text + "\n" + sig.substr(0, sig.size() - 1), "end with a newline"},
      {text + "\n" + dash + "PeterNeumann !!!!\n", "not canonical base64"},
      // The same bytes, but with non-zero padding bits: not canonical.
      {text + "\n" + absl::StrReplaceAll(sig, {{"nAM=", "nAN="}}),
       "not canonical base64"},
      {text + "\n" + absl::StrReplaceAll(sig, {{"nAM=", "nAM"}}),
       "not canonical base64"},
      {text + "\n" + dash + "PeterNeumann AAAA\n", "is 3 bytes"},
      {text + "\n" + dash + "PeterNeumann\n", "no space"},
      {text + "\n" + dash + " x08go/ZJ\n", "key name is empty"},
      {text + "\n" + dash + "Peter+Neumann x08go/ZJ\n", "contains '+'"},
      {text + "\n" + dash + "Peter\xC2\xA0Neumann x08go/ZJ\n", "U+00A0"},
      {text + "\n" + "- PeterNeumann x08go/ZJ\n", "not a signature line"},
      {"If you\tthink\n\n" + sig,
       "line 1 contains the control character U+0009 at column 7"},
      {text + "\r\n" + sig, "line 3 contains the control character U+000D"},
      {"caf\xC3\n\n" + sig, "line 1 is not valid UTF-8"},
      {"\xC0\xAF\n\n" + sig, "not valid UTF-8"},          // Overlong '/'.
      {"\xED\xA0\x80\n\n" + sig, "not valid UTF-8"},      // Surrogate.
      {"\xF4\x90\x80\x80\n\n" + sig, "not valid UTF-8"},  // Above U+10FFFF.
  };
  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  for (const Case& c : cases) {
    absl::StatusOr<std::string> text = verifier.Open(c.note);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(c.note);
    EXPECT_THAT(text.status().message(), HasSubstr(c.message))
        << absl::CHexEscape(c.note);
  }
}

TEST(SignedNoteTest, TooManySignatures) {
  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  std::string note = absl::StrCat(kText, "\n");
  for (int i = 0; i < 100; ++i) note += kPeterSig;
  EXPECT_TRUE(verifier.Open(note).ok());
  note += kPeterSig;
  absl::StatusOr<std::string> text = verifier.Open(note);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("more than 100 signatures"));
}

TEST(SignedNoteTest, EverySignatureByTheKeyMustVerify) {
  const std::string sig = kPeterSig;
  const std::string bad =
      absl::StrCat(sig.substr(0, 60), "ABCD", sig.substr(60));
  absl::StatusOr<std::string> text =
      Verifier(kPeterVerifierKey)
          .Open(absl::StrCat(kText, "\n", sig, kEnochSig, bad));
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(text.status().message(), HasSubstr("line 6"));
}

TEST(SignedNoteTest, RoundTrip) {
  const NoteSigner signer = NewSigner("selec.example/test-log");
  const NoteVerifier verifier = Verifier(signer.VerifierKey());
  EXPECT_EQ(verifier.name(), "selec.example/test-log");
  EXPECT_EQ(verifier.key_id(), signer.key_id());
  // Blank lines and lines that look like signatures are fine in the text:
  // it ends at the last blank line.
  for (const std::string text :
       {"a\n", "\n", "one\n\ntwo\n", "trailing blank\n\n",
        "unicode \xE2\x9C\x93 caf\xC3\xA9\n",
        "fake\n\n\xE2\x80\x94 selec.example/test-log AAAAAAA=\n"}) {
    absl::StatusOr<std::string> note = signer.Sign(text);
    ASSERT_TRUE(note.ok()) << note.status();
    absl::StatusOr<std::string> opened = verifier.Open(*note);
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(*opened, text);
  }
}

TEST(SignedNoteTest, TamperedTextFails) {
  const NoteVerifier verifier = Verifier(kPeterVerifierKey);
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {"cryptography", "cryptographY"},
           {"problem,\n", "problem.\n"},
           {"is.\n\n", "is.\n\n\n"},
       }) {
    const std::string note = absl::StrReplaceAll(PeterNote(), {{from, to}});
    ASSERT_NE(note, PeterNote());
    absl::StatusOr<std::string> text = verifier.Open(note);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied)
        << absl::CHexEscape(note);
    EXPECT_THAT(text.status().message(),
                HasSubstr("signature by PeterNeumann does not verify"));
  }
}

TEST(SignedNoteTest, SignatureByAnotherKeyFails) {
  absl::StatusOr<std::string> note = NewSigner("PeterNeumann").Sign(kText);
  ASSERT_TRUE(note.ok()) << note.status();
  // Same name, other key (so other key id): not Peter's signature.
  absl::StatusOr<std::string> text = Verifier(kPeterVerifierKey).Open(*note);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(text.status().message(),
              HasSubstr("no signature by key PeterNeumann"));
  EXPECT_THAT(text.status().message(), HasSubstr("other key ids"));

  note = NewSigner("CarmenSandiego").Sign(kText);
  ASSERT_TRUE(note.ok()) << note.status();
  text = Verifier(kPeterVerifierKey).Open(*note);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(text.status().message(),
              HasSubstr("no signature by key PeterNeumann"));
}

TEST(SignedNoteTest, SignRejectsInvalidText) {
  const NoteSigner signer = Peter();
  for (const std::string& text : std::vector<std::string>{
           "", "abc", "a\tb\n", "a\r\n", "\xff\n", std::string("a\0b\n", 4)}) {
    EXPECT_EQ(signer.Sign(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(text);
  }
}

TEST(SignedNoteTest, KeyTextsTolerateSurroundingWhitespace) {
  for (const std::string& key : {absl::StrCat(kPeterPrivateKey, "\n"),
                                 absl::StrCat(" ", kPeterPrivateKey, "\r\n")}) {
    absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(key);
    ASSERT_TRUE(signer.ok()) << signer.status();
    EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  }
  EXPECT_TRUE(
      NoteVerifier::FromVerifierKey(absl::StrCat(kPeterVerifierKey, "\n"))
          .ok());
}

// As Go's TestNewVerifier and TestNewSigner: no truncation and no single
// changed byte of a key text is accepted.
TEST(SignedNoteTest, MangledKeysAreRejected) {
  const std::string vkey = kPeterVerifierKey;
  const std::string skey = kPeterPrivateKey;
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      const std::string key = vkey.substr(i, j - i);
      EXPECT_EQ(NoteVerifier::FromVerifierKey(key).status().code(),
                absl::StatusCode::kInvalidArgument)
          << key;
    }
  }
  for (size_t i = 0; i <= skey.size(); ++i) {
    for (size_t j = i + 1; j <= skey.size(); ++j) {
      if (i == 0 && j == skey.size()) continue;
      const std::string key = skey.substr(i, j - i);
      EXPECT_EQ(NoteSigner::FromPrivateKey(key).status().code(),
                absl::StatusCode::kInvalidArgument)
          << key;
    }
  }
  for (std::string key : {vkey, skey}) {
    for (size_t i = 0; i < key.size(); ++i) {
      ++key[i];
      EXPECT_FALSE(NoteVerifier::FromVerifierKey(key).ok()) << key;
      EXPECT_FALSE(NoteSigner::FromPrivateKey(key).ok()) << key;
      --key[i];
    }
  }
}

TEST(SignedNoteTest, KeyIdMismatchIsRejected) {
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(
      "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(verifier.status().message(),
              HasSubstr("key id c74f20a4 does not match the name and key "
                        "(expected c74f20a3)"));
  // Same key under another name: the id no longer matches.
  verifier = NoteVerifier::FromVerifierKey(
      "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(
      "PRIVATE+KEY+PeterNeumann+c74f20a4+"
      "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(signer.status().message(), HasSubstr("does not match"));
  // Never any key material in messages.
  EXPECT_THAT(signer.status().message(), Not(HasSubstr("AYEK")));
}

TEST(SignedNoteTest, KeyErrors) {
  struct Case {
    std::string key;
    std::string message;
  };
  const std::vector<Case> verifier_cases = {
      {"", "not of the form"},
      {"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "white space"},
      {"PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
       "not 8 hexadecimal digits"},
      {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
       "not canonical base64"},
      {"PeterNeumann+c74f20a3+AhpjZA==", "algorithm byte 0x02"},
      {"PeterNeumann+c74f20a3+ARpjZA==", "key is 3 bytes; expected 32"},
      {kPeterPrivateKey, "is a private key"},
  };
  for (const Case& c : verifier_cases) {
    absl::StatusOr<NoteVerifier> verifier =
        NoteVerifier::FromVerifierKey(c.key);
    EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument)
        << c.key;
    EXPECT_THAT(verifier.status().message(), HasSubstr(c.message)) << c.key;
    EXPECT_THAT(verifier.status().message(), Not(HasSubstr("AYEK")));
  }
  absl::StatusOr<NoteSigner> signer =
      NoteSigner::FromPrivateKey(kPeterVerifierKey);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(signer.status().message(), HasSubstr("PRIVATE+KEY+"));
}

TEST(SignedNoteTest, GeneratedKeys) {
  const NoteSigner a = NewSigner("selec.example/liaison-audit");
  const NoteSigner b = NewSigner("selec.example/liaison-audit");
  EXPECT_EQ(a.name(), "selec.example/liaison-audit");
  EXPECT_NE(a.VerifierKey(), b.VerifierKey());
  // A copy shares the key.
  const NoteSigner copy = a;
  EXPECT_EQ(copy.VerifierKey(), a.VerifierKey());
  absl::StatusOr<std::string> note = copy.Sign("x\n");
  ASSERT_TRUE(note.ok());
  EXPECT_TRUE(Verifier(a.VerifierKey()).Open(*note).ok());
  EXPECT_FALSE(Verifier(b.VerifierKey()).Open(*note).ok());

  for (const std::string name :
       {"", "a b", "a+b", "a\tb", "a\x7f_b", "a\xC2\x85_b", "a\xC2\xA0_b",
        "a\xE3\x80\x80_b", "\xff"}) {
    EXPECT_EQ(GenerateNotePrivateKey(name).status().code(),
              absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(name);
  }
}

// --- Checkpoints ---

std::string Root(char fill) { return std::string(32, fill); }

TEST(CheckpointTest, SpecExample) {
  absl::StatusOr<CheckpointBody> c = ParseCheckpoint(
      "example.com/behind-the-sofa\n"
      "20852163\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(c->size, 20852163u);
  EXPECT_EQ(absl::Base64Escape(c->root_hash),
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
  EXPECT_TRUE(c->extensions.empty());
}

TEST(CheckpointTest, FormatAndParseRoundTrip) {
  CheckpointBody c;
  c.origin = "selec.example/liaison-audit";
  c.size = 42;
  c.root_hash = Root('\x7f');
  c.extensions = {"ext one", "\xE2\x9C\x93"};
  const std::string text = FormatCheckpoint(c);
  EXPECT_EQ(text, absl::StrCat("selec.example/liaison-audit\n42\n",
                               absl::Base64Escape(Root('\x7f')),
                               "\next one\n\xE2\x9C\x93\n"));
  absl::StatusOr<CheckpointBody> parsed = ParseCheckpoint(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->origin, c.origin);
  EXPECT_EQ(parsed->size, c.size);
  EXPECT_EQ(parsed->root_hash, c.root_hash);
  EXPECT_EQ(parsed->extensions, c.extensions);

  for (uint64_t size : {uint64_t{0}, uint64_t{1}, UINT64_MAX}) {
    c.size = size;
    c.extensions.clear();
    parsed = ParseCheckpoint(FormatCheckpoint(c));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->size, size);
  }
}

TEST(CheckpointTest, SignedCheckpointEndToEnd) {
  const NoteSigner signer = NewSigner("selec.example/liaison-audit");
  CheckpointBody c;
  c.origin = signer.name();
  c.size = 7;
  c.root_hash = Root('\x01');
  absl::StatusOr<std::string> note = signer.Sign(FormatCheckpoint(c));
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<std::string> text = Verifier(signer.VerifierKey()).Open(*note);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<CheckpointBody> parsed = ParseCheckpoint(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size, 7u);
  EXPECT_EQ(parsed->root_hash, Root('\x01'));
}

TEST(CheckpointTest, StrictParsing) {
  const std::string root = absl::Base64Escape(Root('\x01'));
  const std::string root31 = absl::Base64Escape(std::string(31, '\x01'));
  const std::string root33 = absl::Base64Escape(std::string(33, '\x01'));
  // Canonical root ends "AQE="; "AQF=" decodes the same with stray bits.
  const std::string noncanonical = root.substr(0, root.size() - 2) + "F=";
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "does not end with a newline"},
      {"o\n1\n" + root, "does not end with a newline"},
      {"o\n1\n", "has 2 lines; it needs at least 3"},
      {"o\n", "has 1 line; it needs at least 3"},
      {"\n1\n" + root + "\n", "line 1 (origin) is empty"},
      {"o\n\n" + root + "\n", "line 2 (tree size) is empty"},
      {"o\n007\n" + root + "\n",
       "line 2 (tree size) \"007\" has leading zeros"},
      {"o\n00\n" + root + "\n", "has leading zeros"},
      {"o\n+5\n" + root + "\n", "is not a decimal number"},
      {"o\n-1\n" + root + "\n", "is not a decimal number"},
      {"o\n 5\n" + root + "\n", "is not a decimal number"},
      {"o\n0x10\n" + root + "\n", "is not a decimal number"},
      {"o\n18446744073709551616\n" + root + "\n", "does not fit in 64 bits"},
      {"o\n1\n\n", "line 3 (root hash) is empty"},
      {"o\n1\n" + root31 + "\n", "decodes to 31 bytes"},
      {"o\n1\n" + root33 + "\n", "decodes to 33 bytes"},
      {"o\n1\n" + noncanonical + "\n", "not canonical base64"},
      {"o\n1\n" + root.substr(0, root.size() - 1) + "\n",
       "not canonical base64"},
      {"o\n1\n" + root + "\n\n", "line 4 (extension) is empty"},
      {"o\n1\n" + root + "\next\n\n", "line 5 (extension) is empty"},
      {"o\t\n1\n" + root + "\n", "control character U+0009"},
      {"o\n1\r\n" + root + "\n", "control character U+000D"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CheckpointBody> parsed = ParseCheckpoint(c.text);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::CHexEscape(c.text);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message))
        << absl::CHexEscape(c.text);
  }
}

// --- certs/audit-key.sh ---

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class AuditKeyScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/audit-key-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
  }
  void TearDown() override {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
  }

  // Runs the script with `args`; returns its exit code, output in `output_`.
  int Run(const std::string& args) {
    const std::string out = tmp_ + "/output";
    const int status = std::system(absl::StrCat("bash " LIAISON_SOURCE_DIR
                                                "/certs/audit-key.sh ",
                                                args, " >", out, " 2>&1")
                                       .c_str());
    output_ = ReadAll(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string tmp_;
  std::string output_;
};

TEST_F(AuditKeyScriptTest, WritesKeysThatLoad) {
  const std::string dir = tmp_ + "/keys";
  ASSERT_EQ(Run(dir + " --name test.example/audit"), 0) << output_;
  const std::string skey = ReadAll(dir + "/audit-signing.key");
  const std::string vkey = ReadAll(dir + "/audit.vkey");

  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(skey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(signer->name(), "test.example/audit");
  EXPECT_EQ(vkey, signer->VerifierKey() + "\n");
  absl::StatusOr<std::string> note = signer->Sign("hello\n");
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<std::string> text = verifier->Open(*note);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "hello\n");

  // The private key is never printed, and is for the owner only.
  EXPECT_THAT(output_, HasSubstr(signer->VerifierKey()));
  EXPECT_THAT(output_, Not(HasSubstr("PRIVATE")));
  // The key material follows "PRIVATE+KEY+<name>+<hash>+"; base64 has '+'
  // of its own, so it is found by position, not by the last '+'.
  const std::vector<std::string> parts =
      absl::StrSplit(skey, absl::MaxSplits('+', 4));
  ASSERT_EQ(parts.size(), 5u) << skey;
  ASSERT_GE(parts[4].size(), 20u) << skey;
  EXPECT_THAT(output_, Not(HasSubstr(parts[4].substr(0, 20))));
  struct stat st;
  ASSERT_EQ(stat((dir + "/audit-signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // No intermediate files are left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 2);

  // An existing key is kept unless --force.
  EXPECT_EQ(Run(dir + " --name test.example/audit"), 1);
  EXPECT_THAT(output_, HasSubstr("--force"));
  EXPECT_EQ(ReadAll(dir + "/audit-signing.key"), skey);
  ASSERT_EQ(Run(dir + " --name test.example/audit --force"), 0) << output_;
  EXPECT_NE(ReadAll(dir + "/audit-signing.key"), skey);
  signer = NoteSigner::FromPrivateKey(ReadAll(dir + "/audit-signing.key"));
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(ReadAll(dir + "/audit.vkey"), signer->VerifierKey() + "\n");
}

TEST_F(AuditKeyScriptTest, DefaultNameAndBadArguments) {
  const std::string dir = tmp_ + "/keys";
  ASSERT_EQ(Run(dir), 0) << output_;
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(ReadAll(dir + "/audit.vkey"));
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->name(), "selec.example/liaison-audit");

  EXPECT_EQ(Run(tmp_ + "/other --name a+b"), 2);
  EXPECT_EQ(Run(tmp_ + "/other --name 'a b'"), 2);
  EXPECT_EQ(Run(tmp_ + "/other --bogus"), 2);
  EXPECT_EQ(Run(""), 2);
  EXPECT_FALSE(std::filesystem::exists(tmp_ + "/other/audit-signing.key"));
}

}  // namespace
}  // namespace liaison
