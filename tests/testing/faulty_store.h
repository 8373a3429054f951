// A Store that forwards to a real one and fails writes on demand.
#ifndef LIAISON_TESTS_TESTING_FAULTY_STORE_H_
#define LIAISON_TESTS_TESTING_FAULTY_STORE_H_

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>

#include "domain/store.h"

namespace liaison::testing {

// Forwards to a real store; fails writes while `fail_writes` is set (the
// leveldb ErrorEnv idea).
class FaultyStore final : public Store {
 public:
  explicit FaultyStore(std::unique_ptr<Store> base) : base_(std::move(base)) {}
  std::atomic<bool> fail_writes{false};
  // While set, writes commit but report an unknown outcome, as when the
  // connection to a database server breaks during COMMIT.
  std::atomic<bool> lose_commit_outcomes{false};
  // The next this many writes fail (then they work again).
  std::atomic<int> fail_next_writes{0};
  // How many times Write (the waiting one) was called.
  std::atomic<int> waiting_writes{0};
  // When set, the next WriteAsync first runs its function once in a
  // transaction that is then rolled back, after `rehearse` wrote there: a
  // rerun (Store::WriteAsync) whose first run saw another state.
  std::function<absl::Status(WriteTransaction&)> rehearse;

  // liaison::Store
  absl::Status Write(
      absl::FunctionRef<absl::Status(WriteTransaction&)> fn) override {
    ++waiting_writes;
    if (Fails()) return absl::UnavailableError("disk I/O error");
    absl::Status written = base_->Write(fn);
    if (written.ok() && lose_commit_outcomes) {
      return OutcomeUnknownError("connection lost during COMMIT");
    }
    return written;
  }
  // Through the real store's asynchronous path (its thread calls `done`),
  // a failing write as a transaction that fails there.
  void WriteAsync(absl::AnyInvocable<absl::Status(WriteTransaction&)> fn,
                  absl::AnyInvocable<void(absl::Status)> done) override {
    if (Fails()) {
      base_->WriteAsync(
          [](WriteTransaction&) {
            return absl::UnavailableError("disk I/O error");
          },
          std::move(done));
      return;
    }
    if (rehearse != nullptr) {
      std::function<absl::Status(WriteTransaction&)> before =
          std::move(rehearse);
      rehearse = nullptr;
      const absl::Status rehearsed =
          base_->Write([&](WriteTransaction& txn) -> absl::Status {
            absl::Status written = before(txn);
            if (!written.ok()) return written;
            fn(txn).IgnoreError();
            return absl::AbortedError("rehearsal: rolled back");
          });
      EXPECT_EQ(rehearsed, absl::AbortedError("rehearsal: rolled back"));
    }
    base_->WriteAsync(std::move(fn), [this, done = std::move(done)](
                                         absl::Status written) mutable {
      if (written.ok() && lose_commit_outcomes) {
        written = OutcomeUnknownError("connection lost during COMMIT");
      }
      done(std::move(written));
    });
  }
  bool ServesWithoutWaiting() const override {
    return base_->ServesWithoutWaiting();
  }
  absl::StatusOr<Party> GetParty(absl::string_view code) override {
    return base_->GetParty(code);
  }
  absl::StatusOr<std::vector<Party>> ListParties() override {
    return base_->ListParties();
  }
  absl::StatusOr<Message> GetMessage(absl::string_view id) override {
    return base_->GetMessage(id);
  }
  absl::StatusOr<std::vector<Message>> ListInbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before) override {
    return base_->ListInbox(party, limit, before);
  }
  absl::StatusOr<std::vector<Message>> ListOutbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before) override {
    return base_->ListOutbox(party, limit, before);
  }
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(int64_t from,
                                                    int limit) override {
    return base_->ReadAudit(from, limit);
  }
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(
      const AuditQuery& query) override {
    return base_->ReadAudit(query);
  }
  absl::StatusOr<int64_t> AuditSize() override { return base_->AuditSize(); }
  absl::StatusOr<std::string> ReadAuditNode(int level, int64_t index) override {
    return base_->ReadAuditNode(level, index);
  }
  absl::StatusOr<std::vector<std::string>> ReadAuditLeafHashes(
      int64_t from_seq, int limit) override {
    return base_->ReadAuditLeafHashes(from_seq, limit);
  }
  absl::StatusOr<std::optional<AuditCheckpoint>> LatestCheckpoint() override {
    return base_->LatestCheckpoint();
  }
  absl::StatusOr<std::vector<AuditCheckpoint>> ListCheckpoints(
      int64_t max_size) override {
    return base_->ListCheckpoints(max_size);
  }
  absl::StatusOr<std::vector<Message>> ListRequests(
      const RequestQuery& query) override {
    return base_->ListRequests(query);
  }
  absl::StatusOr<Case> GetCase(absl::string_view id) override {
    return base_->GetCase(id);
  }
  absl::StatusOr<std::vector<Event>> ReadEvents(absl::string_view party,
                                                int64_t after_seq,
                                                int limit) override {
    return base_->ReadEvents(party, after_seq, limit);
  }
  absl::StatusOr<int64_t> LastEventSeq(absl::string_view party) override {
    return base_->LastEventSeq(party);
  }
  absl::StatusOr<int64_t> CountEvents(absl::string_view party,
                                      int64_t after_seq, int64_t cap) override {
    return base_->CountEvents(party, after_seq, cap);
  }
  absl::StatusOr<AttachmentInfo> GetAttachment(absl::string_view id) override {
    return base_->GetAttachment(id);
  }
  absl::StatusOr<std::vector<AttachmentInfo>> ListAttachments(
      absl::string_view message_id) override {
    return base_->ListAttachments(message_id);
  }
  absl::StatusOr<std::optional<std::string>> ReadAttachmentChunk(
      absl::string_view id, int64_t index) override {
    return base_->ReadAttachmentChunk(id, index);
  }
  absl::StatusOr<std::vector<RequestRow>> ListRequestRows(
      absl::Time from, absl::Time to, absl::string_view party) override {
    return base_->ListRequestRows(from, to, party);
  }
  absl::StatusOr<std::pair<int64_t, int64_t>> CountCases(
      absl::Time from, absl::Time to, absl::string_view party) override {
    return base_->CountCases(from, to, party);
  }
  absl::StatusOr<std::vector<Consent>> ListConsents(
      absl::string_view party) override {
    return base_->ListConsents(party);
  }
  absl::StatusOr<std::vector<Case>> ListCases(
      absl::string_view party) override {
    return base_->ListCases(party);
  }
  absl::StatusOr<std::vector<std::string>> CaseReaders(
      absl::string_view message_id) override {
    return base_->CaseReaders(message_id);
  }
  absl::StatusOr<std::vector<Message>> CaseThread(
      absl::string_view case_id) override {
    return base_->CaseThread(case_id);
  }
  absl::StatusOr<std::vector<PartyChange>> ListPartyChanges(
      absl::string_view code) override {
    return base_->ListPartyChanges(code);
  }
  absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) override {
    return base_->FindRevocation(serial, user);
  }
  absl::StatusOr<std::vector<Revocation>> ListRevocations() override {
    return base_->ListRevocations();
  }

 private:
  bool Fails() {
    if (fail_writes) return true;
    int n = fail_next_writes.load();
    while (n > 0) {
      if (fail_next_writes.compare_exchange_weak(n, n - 1)) return true;
    }
    return false;
  }

  std::unique_ptr<Store> base_;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_FAULTY_STORE_H_
