// liaison_audit_bench: how the verifiable audit log scales (issue 6).
//
// For each log size it builds a fresh SQLite store of that many entries
// through the production append path (StoreAuditLog: leaf, stored subtree
// hashes, same transaction), then measures
//   - append rate (entries per second, 1000 per transaction, and one per
//     synced transaction as every RPC does),
//   - root from the stored nodes versus a full rescan of the log,
//   - inclusion and consistency proof time and nodes read per proof,
//   - proof verification rate, and `liaison audit verify` rate over an
//     export of the whole log (JSON lines, hashed from the fields).
// The baseline, measured in the same run: raw SHA-256 of a 64-byte node
// input and of 1 MiB.
//
//   liaison_audit_bench [--sizes=10000,100000,1000000] [--dir=/tmp]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/audit_verify.h"
#include "common/clock.h"
#include "common/sha256.h"
#include "common/signed_note.h"
#include "domain/audit.h"
#include "domain/audit_log.h"
#include "domain/merkle.h"
#include "server/convert.h"
#include "store/sqlite/sqlite_store.h"

namespace liaison {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A typical entry: an officer reading a message.
AuditEntry TypicalEntry(int64_t i) {
  AuditEntry e;
  e.time = absl::FromUnixMicros(1764000000000000 + i * 1000);
  e.principal = "spiffe://selec.example/party/HU/liaison-officer/anna.kovacs";
  e.party = "HU";
  e.role = "liaison-officer";
  e.user_id = "anna.kovacs";
  e.action = "Exchange.GetMessage";
  e.resources = {absl::StrCat("01M8A0JW0Q4W6BXVC", 100000000 + i)};
  e.outcome = AuditOutcome::kAllowed;
  return e;
}

struct Baseline {
  double node_hashes_per_s = 0;  // SHA-256 of 65 bytes (0x01 || l || r)
  double mib_per_s = 0;
};

Baseline MeasureSha256() {
  Baseline b;
  const std::string node(65, 'n');
  const int kNodes = 2'000'000;
  std::string sink;
  auto start = Clock::now();
  for (int i = 0; i < kNodes; ++i) sink = Sha256(node);
  b.node_hashes_per_s = kNodes / Seconds(start);
  const std::string mib(1 << 20, 'm');
  const int kMiB = 512;
  start = Clock::now();
  for (int i = 0; i < kMiB; ++i) sink = Sha256(mib);
  b.mib_per_s = kMiB / Seconds(start);
  return b;
}

int Run(const std::vector<int64_t>& sizes, const std::string& dir) {
  const Baseline base = MeasureSha256();
  std::printf("SHA-256 baseline: %.2f M node hashes/s (65 bytes), %.0f MiB/s\n",
              base.node_hashes_per_s / 1e6, base.mib_per_s);
  const double sha_us = 1e6 / base.node_hashes_per_s;

  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(
      *GenerateNotePrivateKey("bench.example/liaison-audit"));
  absl::StatusOr<NoteVerifier> verifier =
      NoteVerifier::FromVerifierKey(signer->VerifierKey());
  SystemClock system_clock;

  for (const int64_t size : sizes) {
    const std::string path =
        absl::StrCat(dir, "/liaison-audit-bench-", size, "-", getpid(), ".db");
    std::remove(path.c_str());
    absl::StatusOr<std::unique_ptr<SqliteStore>> opened =
        SqliteStore::Open(path);
    if (!opened.ok()) {
      std::cerr << opened.status() << "\n";
      return 1;
    }
    SqliteStore& store = **opened;
    StoreAuditLog log;
    std::printf("\n== %lld entries\n", static_cast<long long>(size));

    // Append, 1000 entries per transaction (the tree's own cost).
    auto start = Clock::now();
    constexpr int64_t kBatch = 1000;
    for (int64_t done = 0; done < size;) {
      const int64_t n = std::min(kBatch, size - done);
      absl::Status s = store.Write([&](WriteTransaction& txn) -> absl::Status {
        for (int64_t i = 0; i < n; ++i) {
          absl::StatusOr<int64_t> seq = log.Append(txn, TypicalEntry(done + i));
          if (!seq.ok()) return seq.status();
        }
        return absl::OkStatus();
      });
      if (!s.ok()) {
        std::cerr << s << "\n";
        return 1;
      }
      done += n;
    }
    const double append_s = Seconds(start);
    std::printf(
        "append (1000/txn):   %9.0f entries/s  %7.2f us/entry  (%.0f "
        "SHA-256)\n",
        size / append_s, 1e6 * append_s / size, 1e6 * append_s / size / sha_us);
    // One entry per synced transaction, as each RPC appends its own.
    constexpr int kSynced = 200;
    start = Clock::now();
    for (int i = 0; i < kSynced; ++i) {
      absl::Status s = store.Write([&](WriteTransaction& txn) {
        return log.Append(txn, TypicalEntry(size + i)).status();
      });
      if (!s.ok()) return 1;
    }
    const double synced_s = Seconds(start);
    std::printf("append (1/txn, sync):%9.0f entries/s  %7.2f us/entry\n",
                kSynced / synced_s, 1e6 * synced_s / kSynced);
    const int64_t total = *store.AuditSize();

    // Root: stored nodes against a rescan of every leaf.
    int reads = 0;
    auto counted = [&](int level, uint64_t index) {
      ++reads;
      return store.ReadAuditNode(level, static_cast<int64_t>(index));
    };
    start = Clock::now();
    const std::string root = *merkle::RootHash(total, counted);
    const double stored_root_us = 1e6 * Seconds(start);
    const int root_reads = reads;
    start = Clock::now();
    merkle::RootBuilder rescan;
    for (int64_t from = 1; from <= total; from += 10000) {
      const std::vector<std::string> leaves =
          *store.ReadAuditLeafHashes(from, 10000);
      for (const std::string& leaf : leaves) rescan.Add(leaf);
    }
    const double rescan_us = 1e6 * Seconds(start);
    if (rescan.Root() != root) {
      std::cerr << "root mismatch\n";
      return 1;
    }
    std::printf(
        "root from nodes:     %9.1f us (%d node reads); full rescan %.0f us "
        "(%.0fx)\n",
        stored_root_us, root_reads, rescan_us, rescan_us / stored_root_us);

    // Proofs at random positions.
    std::mt19937_64 random(42);
    constexpr int kProofs = 1000;
    std::vector<std::pair<int64_t, std::vector<std::string>>> proofs;
    reads = 0;
    start = Clock::now();
    for (int i = 0; i < kProofs; ++i) {
      const int64_t index = static_cast<int64_t>(random() % total);
      proofs.emplace_back(index,
                          *merkle::InclusionProof(index, total, counted));
    }
    const double inclusion_us = 1e6 * Seconds(start) / kProofs;
    std::printf(
        "inclusion proof:     %9.1f us/proof (%.1f node reads, %zu hashes)\n",
        inclusion_us, static_cast<double>(reads) / kProofs,
        proofs.front().second.size());
    reads = 0;
    start = Clock::now();
    for (int i = 0; i < kProofs; ++i) {
      const int64_t old_size = 1 + static_cast<int64_t>(random() % total);
      if (!merkle::ConsistencyProof(old_size, total, counted).ok()) return 1;
    }
    std::printf("consistency proof:   %9.1f us/proof (%.1f node reads)\n",
                1e6 * Seconds(start) / kProofs,
                static_cast<double>(reads) / kProofs);

    // Verifying proofs (as a client does: leaf and path in hand).
    std::vector<std::string> leaves;
    for (const auto& [index, proof] : proofs) {
      leaves.push_back(*store.ReadAuditNode(0, index));
    }
    start = Clock::now();
    int verified = 0;
    for (int round = 0; round < 10; ++round) {
      for (size_t i = 0; i < proofs.size(); ++i) {
        verified += merkle::VerifyInclusion(leaves[i], proofs[i].first, total,
                                            proofs[i].second, root);
      }
    }
    const double verify_s = Seconds(start);
    std::printf(
        "inclusion verify:    %9.0f proofs/s  %7.2f us/proof (%.0f SHA-256)\n",
        verified / verify_s, 1e6 * verify_s / verified,
        1e6 * verify_s / verified / sha_us);

    // The whole log exported and verified as `liaison audit verify` does.
    Checkpointer checkpointer(store, MakeNoteCheckpointSigner(*signer),
                              system_clock, {});
    AuditService service(store, log, system_clock, checkpointer);
    ExportPlan plan;
    plan.checkpoint = *checkpointer.SignNow();
    std::stringstream file;
    v1::ExportChunk header;
    header.mutable_header()->set_format(std::string(client::kExportFormat));
    header.mutable_header()->set_scope("full");
    header.mutable_header()->mutable_checkpoint()->set_note(
        plan.checkpoint.note);
    file << *client::ExportLine(header.header()) << "\n";
    start = Clock::now();
    for (int64_t next = 1; next != 0;) {
      absl::StatusOr<EntryPage> page = service.ExportPage(plan, next, 1000);
      if (!page.ok()) return 1;
      for (const RecordedEntry& r : page->entries) {
        v1::ExportedEntry out;
        server::ToProto(r, out.mutable_record());
        file << *client::ExportLine(out) << "\n";
      }
      next = page->next_seq;
    }
    const double export_s = Seconds(start);
    const size_t bytes = file.str().size();
    start = Clock::now();
    const client::ExportReport report =
        client::VerifyExport(file, *verifier, {});
    const double verify_export_s = Seconds(start);
    if (!report.ok) {
      std::cerr << "export does not verify: " << report.problems.front()
                << "\n";
      return 1;
    }
    std::printf(
        "export (store->JSON):%9.0f entries/s  (%.1f MiB)\n"
        "audit verify:        %9.0f entries/s  %7.2f us/entry (%.0f SHA-256)\n",
        report.entries / export_s, bytes / 1048576.0,
        report.entries / verify_export_s,
        1e6 * verify_export_s / report.entries,
        1e6 * verify_export_s / report.entries / sha_us);
    opened->reset();
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
  }
  return 0;
}

}  // namespace
}  // namespace liaison

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<int64_t> sizes = {10'000, 100'000, 1'000'000};
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--sizes=", 0) == 0) {
      sizes.clear();
      for (absl::string_view part :
           absl::StrSplit(arg.substr(8), ',', absl::SkipEmpty())) {
        int64_t n = 0;
        if (!absl::SimpleAtoi(part, &n) || n < 1) {
          std::cerr << "bad size " << part << "\n";
          return 2;
        }
        sizes.push_back(n);
      }
    } else if (arg.rfind("--dir=", 0) == 0) {
      dir = arg.substr(6);
    } else {
      std::cerr << "usage: liaison_audit_bench [--sizes=N,N,...] [--dir=DIR]\n";
      return 2;
    }
  }
  return liaison::Run(sizes, dir);
}
