#include "client/audit_verify.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/sha256.h"
#include "domain/merkle.h"

namespace liaison::client {
namespace {

// Altered entries named one by one, at most; the rest are counted.
constexpr size_t kMaxNamed = 20;

std::string Describe(const v1::AuditRecord& r) {
  const absl::Time time = absl::FromUnixSeconds(r.time().seconds()) +
                          absl::Nanoseconds(r.time().nanos());
  return absl::StrCat(
      r.action(), " by ",
      r.principal().empty() ? "(no identity)" : r.principal(), " at ",
      absl::FormatTime("%Y-%m-%d %H:%M:%SZ", time, absl::UTCTimeZone()));
}

template <typename Proto>
absl::Status ParseLine(const std::string& line, Proto& out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status =
      google::protobuf::util::JsonStringToMessage(line, &out, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(status.ToString());
  }
  return absl::OkStatus();
}

std::vector<std::string> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  return {hashes.begin(), hashes.end()};
}

// A root the entries must reproduce at a size: an earlier checkpoint of the
// export, or one the verifier kept.
struct Mark {
  std::string root;
  std::string label;
};

class ExportChecker {
 public:
  ExportChecker(std::istream& in, ExportReport& report)
      : in_(in), report_(report) {}

  void Problem(std::string problem) {
    report_.problems.push_back(std::move(problem));
  }

  // Adds a checkpoint to meet along the way; `kept` if the verifier kept
  // it (rather than the export listing it).
  void AddMark(const CheckedCheckpoint& c, std::string label, bool kept) {
    const uint64_t size = c.body.size;
    if (size > report_.checkpoint.body.size) {
      Problem(absl::StrCat(label, " covers ", size,
                           " entries, more than this export's checkpoint (",
                           report_.checkpoint.body.size,
                           "): export again to check it"));
      return;
    }
    if (kept) ++kept_;
    auto [it, added] = marks_.try_emplace(size, Mark{c.body.root_hash, label});
    if (!added && it->second.root != c.body.root_hash) {
      Problem(absl::StrCat(label, " and ", it->second.label,
                           " give different roots for the same ", size,
                           " entries: the log was rewritten"));
    }
  }

  void CheckFull();
  void CheckParty(absl::string_view party);

 private:
  // Reads the next entry line; false at the end.
  bool Next(v1::ExportedEntry& entry, std::string& line);

  std::istream& in_;
  ExportReport& report_;
  std::map<uint64_t, Mark> marks_;
  int kept_ = 0;
  int64_t line_number_ = 1;
};

bool ExportChecker::Next(v1::ExportedEntry& entry, std::string& line) {
  while (std::getline(in_, line)) {
    ++line_number_;
    if (line.empty()) continue;
    entry.Clear();
    absl::Status parsed = ParseLine(line, entry);
    if (!parsed.ok()) {
      Problem(absl::StrCat("line ", line_number_,
                           " is not an export entry: ", parsed.message()));
    }
    return true;
  }
  return false;
}

void ExportChecker::CheckFull() {
  const CheckpointBody& signed_tree = report_.checkpoint.body;
  merkle::RootBuilder actual;  // From the entries' fields.
  merkle::RootBuilder hinted;  // From the leaf hashes sent along.
  std::vector<std::string> hints;
  struct Altered {
    int64_t seq;
    std::string leaf;
    std::string what;
  };
  std::vector<Altered> altered;
  std::optional<uint64_t> last_matched;
  bool order_broken = false;
  int64_t expected = 1;
  v1::ExportedEntry entry;
  std::string line;
  while (Next(entry, line)) {
    const v1::AuditRecord& r = entry.record();
    if (r.seq() != expected) {
      order_broken = true;
      // Only a plausible number resynchronises (and nothing overflows).
      const bool gap = r.seq() > expected &&
                       static_cast<uint64_t>(r.seq()) <= signed_tree.size;
      Problem(gap ? absl::StrCat("entries ", expected, "..", r.seq() - 1,
                                 " are missing (line ", line_number_,
                                 " holds entry ", r.seq(), ")")
                  : absl::StrCat("line ", line_number_, " holds entry ",
                                 r.seq(), " where entry ", expected,
                                 " belongs (repeated, out of order or out of "
                                 "range)"));
      if (gap) expected = r.seq();
    }
    ++expected;
    absl::StatusOr<std::string> leaf = LeafHashOf(r);
    if (!leaf.ok()) {
      Problem(absl::StrCat("entry ", r.seq(), ": ", leaf.status().message()));
      leaf = Sha256(line);  // Holds its place; matches nothing.
    }
    if (r.leaf_hash().empty()) {
      Problem(absl::StrCat("entry ", r.seq(),
                           ": the server's tree holds no leaf for it"));
    } else if (*leaf != r.leaf_hash()) {
      altered.push_back({r.seq(), *leaf, Describe(r)});
    }
    actual.Add(*leaf);
    hinted.Add(r.leaf_hash().empty() ? *leaf : r.leaf_hash());
    hints.push_back(r.leaf_hash());
    ++report_.entries;
    auto mark = marks_.find(actual.size());
    if (mark != marks_.end()) {
      if (actual.Root() == mark->second.root) {
        ++report_.checkpoints_checked;
        last_matched = actual.size();
      } else {
        Problem(absl::StrCat("entries 1..", actual.size(),
                             " do not reproduce the root of ",
                             mark->second.label));
      }
    }
  }
  for (const auto& [size, mark] : marks_) {
    if (size > actual.size()) {
      Problem(absl::StrCat(mark.label,
                           " could not be checked: the export "
                           "has only ",
                           actual.size(), " entries"));
    }
  }
  if (actual.size() != signed_tree.size) {
    Problem(absl::StrCat("the export has ", actual.size(),
                         " entries; its signed checkpoint covers ",
                         signed_tree.size));
  }
  if (actual.size() == signed_tree.size &&
      actual.Root() == signed_tree.root_hash) {
    return;
  }
  Problem(absl::StrCat(
      "the entries do not reproduce the root of the signed checkpoint of ",
      signed_tree.size, " entries"));
  if (hinted.size() == signed_tree.size &&
      hinted.Root() == signed_tree.root_hash) {
    // The leaf hashes sent along are the signed tree's own: every entry
    // that does not hash to its own leaf was changed.
    for (size_t i = 0; i < altered.size() && i < kMaxNamed; ++i) {
      const Altered& a = altered[i];
      std::optional<int64_t> moved_from;
      for (size_t j = 0; j < hints.size(); ++j) {
        if (hints[j] == a.leaf) moved_from = static_cast<int64_t>(j) + 1;
      }
      Problem(moved_from.has_value()
                  ? absl::StrCat("entry ", a.seq,
                                 " holds what was signed as "
                                 "entry ",
                                 *moved_from, " (", a.what,
                                 "): entries were swapped or moved")
                  : absl::StrCat("entry ", a.seq, " was altered: its fields (",
                                 a.what,
                                 ") do not hash to the leaf the signed tree "
                                 "holds"));
    }
    if (altered.size() > kMaxNamed) {
      Problem(absl::StrCat("... and ", altered.size() - kMaxNamed,
                           " more altered entries"));
    }
    return;
  }
  if (!order_broken) {
    Problem(absl::StrCat(
        "the leaf hashes sent with the entries do not give the signed root "
        "either: the server's tree was changed too",
        last_matched.has_value()
            ? absl::StrCat("; entries 1..", *last_matched,
                           " match a signed checkpoint, so the change lies "
                           "after entry ",
                           *last_matched)
            : ""));
  }
  if (!altered.empty()) {
    Problem(absl::StrCat("entry ", altered.front().seq,
                         " is the first whose fields differ from the leaf "
                         "sent with it (",
                         altered.front().what, ")"));
  }
}

void ExportChecker::CheckParty(absl::string_view party) {
  if (kept_ > 0) {
    Problem(
        "kept checkpoints cannot be checked against a party's "
        "export (it holds only that party's entries); check them with "
        "'liaison audit consistency', or against an HQ auditor's export");
  }
  v1::ExportedEntry entry;
  std::string line;
  int64_t previous = 0;
  while (Next(entry, line)) {
    ++report_.entries;
    const v1::AuditRecord& r = entry.record();
    if (r.seq() <= previous) {
      Problem(absl::StrCat("line ", line_number_, " holds entry ", r.seq(),
                           " after entry ", previous,
                           " (repeated or out of order)"));
    }
    previous = std::max(previous, r.seq());
    if (r.party() != party) {
      Problem(absl::StrCat("entry ", r.seq(), " is ", r.party(),
                           "'s, in an export of ", party, "'s entries"));
      continue;
    }
    absl::Status included =
        CheckInclusion(r, Hashes(entry.inclusion_proof()), report_.checkpoint);
    if (!included.ok()) {
      Problem(absl::StrCat(included.message(), " (", Describe(r), ")"));
    }
  }
}

}  // namespace

absl::StatusOr<AuditEntry> EntryOf(const v1::AuditRecord& record) {
  if (record.time().nanos() % 1000 != 0) {
    return absl::InvalidArgumentError(
        "time is finer than the microseconds an entry keeps");
  }
  std::optional<AuditOutcome> outcome = ParseAuditOutcome(record.outcome());
  if (!outcome.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outcome '", record.outcome(), "' is not one an entry has"));
  }
  AuditEntry e;
  e.seq = record.seq();
  e.time = absl::FromUnixSeconds(record.time().seconds()) +
           absl::Microseconds(record.time().nanos() / 1000);
  e.principal = record.principal();
  e.party = record.party();
  e.role = record.role();
  e.user_id = record.user_id();
  e.action = record.action();
  e.resources.assign(record.resources().begin(), record.resources().end());
  e.outcome = *outcome;
  e.code = static_cast<absl::StatusCode>(record.code());
  e.reason = record.reason();
  return e;
}

absl::StatusOr<std::string> LeafHashOf(const v1::AuditRecord& record) {
  absl::StatusOr<AuditEntry> entry = EntryOf(record);
  if (!entry.ok()) return entry.status();
  return merkle::LeafHash(EncodeAuditLeaf(*entry));
}

absl::StatusOr<CheckedCheckpoint> CheckCheckpoint(
    absl::string_view note, const NoteVerifier& verifier) {
  absl::StatusOr<std::string> text = verifier.Open(note);
  if (!text.ok()) return text.status();
  absl::StatusOr<CheckpointBody> body = ParseCheckpoint(*text);
  if (!body.ok()) return body.status();
  if (body->origin != verifier.name()) {
    return absl::PermissionDeniedError(
        absl::StrCat("the checkpoint is of log '", body->origin,
                     "', not of the key's log '", verifier.name(), "'"));
  }
  return CheckedCheckpoint{std::string(note), *std::move(body)};
}

absl::Status CheckInclusion(const v1::AuditRecord& record,
                            const std::vector<std::string>& proof,
                            const CheckedCheckpoint& checkpoint) {
  const uint64_t size = checkpoint.body.size;
  if (record.seq() < 1 || static_cast<uint64_t>(record.seq()) > size) {
    return absl::FailedPreconditionError(
        absl::StrCat("entry ", record.seq(), " is outside the checkpoint of ",
                     size, " entries"));
  }
  absl::StatusOr<std::string> leaf = LeafHashOf(record);
  if (!leaf.ok()) return leaf.status();
  if (!merkle::VerifyInclusion(*leaf, static_cast<uint64_t>(record.seq() - 1),
                               size, proof, checkpoint.body.root_hash)) {
    return absl::FailedPreconditionError(
        absl::StrCat("entry ", record.seq(), " is not in the signed tree of ",
                     size, " entries: the entry or its proof was altered"));
  }
  return absl::OkStatus();
}

absl::Status CheckConsistency(const CheckedCheckpoint& old,
                              const CheckedCheckpoint& now,
                              const std::vector<std::string>& proof) {
  const uint64_t m = old.body.size;
  const uint64_t n = now.body.size;
  if (m > n) {
    return absl::FailedPreconditionError(
        absl::StrCat("the newer checkpoint covers fewer entries (", n,
                     ") than the older (", m, "): the log shrank"));
  }
  if (m == n) {
    if (old.body.root_hash == now.body.root_hash) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("two different roots for the same ", n,
                     " entries: the log was rewritten"));
  }
  if (m == 0) return absl::OkStatus();  // Everything extends the empty log.
  if (!merkle::VerifyConsistency(m, n, old.body.root_hash, now.body.root_hash,
                                 proof)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the checkpoint of ", n, " entries does not extend the one of ", m,
        ": the first ", m, " entries were changed since"));
  }
  return absl::OkStatus();
}

ExportReport VerifyExport(std::istream& in, const NoteVerifier& verifier,
                          const std::vector<std::string>& kept) {
  ExportReport report;
  ExportChecker checker(in, report);
  std::string line;
  v1::ExportHeader header;
  if (!std::getline(in, line)) {
    checker.Problem("the file is empty: no export header");
    return report;
  }
  if (absl::Status parsed = ParseLine(line, header); !parsed.ok()) {
    checker.Problem(
        absl::StrCat("line 1 is not an export header: ", parsed.message()));
    return report;
  }
  if (header.format() != kExportFormat) {
    checker.Problem(
        absl::StrCat("format '", header.format(), "' is not ", kExportFormat));
    return report;
  }
  report.scope = header.scope();
  absl::StatusOr<CheckedCheckpoint> checkpoint =
      CheckCheckpoint(header.checkpoint().note(), verifier);
  if (!checkpoint.ok()) {
    checker.Problem(absl::StrCat("the export's checkpoint: ",
                                 checkpoint.status().message()));
    return report;
  }
  report.checkpoint = *std::move(checkpoint);
  for (const v1::SignedCheckpoint& earlier : header.earlier_checkpoints()) {
    absl::StatusOr<CheckedCheckpoint> c =
        CheckCheckpoint(earlier.note(), verifier);
    if (!c.ok()) {
      checker.Problem(absl::StrCat("an earlier checkpoint (",
                                   earlier.tree_size(),
                                   " entries): ", c.status().message()));
      continue;
    }
    checker.AddMark(
        *c, absl::StrCat("the signed checkpoint of ", c->body.size, " entries"),
        /*kept=*/false);
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    absl::StatusOr<CheckedCheckpoint> c = CheckCheckpoint(kept[i], verifier);
    if (!c.ok()) {
      checker.Problem(
          absl::StrCat("kept checkpoint ", i + 1, ": ", c.status().message()));
      continue;
    }
    checker.AddMark(
        *c, absl::StrCat("your kept checkpoint of ", c->body.size, " entries"),
        /*kept=*/true);
  }
  if (report.scope == "full") {
    checker.CheckFull();
  } else if (absl::StartsWith(report.scope, "party:")) {
    checker.CheckParty(absl::string_view(report.scope).substr(6));
  } else {
    checker.Problem(absl::StrCat("scope '", report.scope,
                                 "' is neither 'full' nor 'party:CODE'"));
  }
  report.ok = report.problems.empty();
  return report;
}

absl::StatusOr<std::string> ExportLine(const google::protobuf::Message& line) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status =
      google::protobuf::util::MessageToJsonString(line, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write JSON: ", status.ToString()));
  }
  return json;
}

}  // namespace liaison::client
