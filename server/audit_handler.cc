#include "server/audit_handler.h"

#include "common/grpc_status.h"
#include "server/convert.h"

namespace liaison::server {
namespace {

// Entries per message of an export stream (well under the message limit:
// an entry is a few hundred bytes).
constexpr int kExportChunkEntries = 500;

}  // namespace

grpc::Status AuditHandler::GetCheckpoint(
    grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
    v1::GetCheckpointResponse* response) {
  absl::StatusOr<AuditCheckpoint> checkpoint =
      audit_.GetCheckpoint(peers_.Identify(*context), request->fresh());
  if (!checkpoint.ok()) return ToGrpcStatus(checkpoint.status());
  ToProto(*checkpoint, response->mutable_checkpoint());
  response->set_verifier_key(audit_.VerifierKey());
  return grpc::Status::OK;
}

grpc::Status AuditHandler::ListEntries(grpc::ServerContext* context,
                                       const v1::ListEntriesRequest* request,
                                       v1::ListEntriesResponse* response) {
  absl::StatusOr<EntryPage> page =
      audit_.ListEntries(peers_.Identify(*context), request->from_seq(),
                         request->to_seq(), request->page_size());
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const RecordedEntry& r : page->entries) {
    ToProto(r, response->add_entries());
  }
  response->set_next_seq(page->next_seq);
  response->set_tree_size(page->tree_size);
  return grpc::Status::OK;
}

grpc::Status AuditHandler::GetInclusionProof(
    grpc::ServerContext* context, const v1::GetInclusionProofRequest* request,
    v1::InclusionProof* response) {
  absl::StatusOr<EntryProof> proof = audit_.GetInclusionProof(
      peers_.Identify(*context), request->seq(), request->tree_size());
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  ToProto(proof->entry, response->mutable_entry());
  response->set_tree_size(proof->tree_size);
  for (const std::string& hash : proof->hashes) response->add_hashes(hash);
  if (proof->checkpoint.has_value()) {
    ToProto(*proof->checkpoint, response->mutable_checkpoint());
  }
  return grpc::Status::OK;
}

grpc::Status AuditHandler::GetConsistencyProof(
    grpc::ServerContext* context, const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  absl::StatusOr<std::vector<std::string>> proof = audit_.GetConsistencyProof(
      peers_.Identify(*context), request->old_size(), request->new_size());
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  response->set_old_size(request->old_size());
  response->set_new_size(request->new_size());
  for (const std::string& hash : *proof) response->add_hashes(hash);
  return grpc::Status::OK;
}

grpc::Status AuditHandler::Export(grpc::ServerContext* context,
                                  const v1::ExportRequest* request,
                                  grpc::ServerWriter<v1::ExportChunk>* writer) {
  absl::StatusOr<ExportPlan> plan =
      audit_.BeginExport(peers_.Identify(*context), request->tree_size());
  if (!plan.ok()) return ToGrpcStatus(plan.status());
  v1::ExportChunk first;
  v1::ExportHeader* header = first.mutable_header();
  header->set_format("liaison-audit-export/1");
  header->set_scope(plan->party.empty() ? "full"
                                        : absl::StrCat("party:", plan->party));
  ToProto(plan->checkpoint, header->mutable_checkpoint());
  for (const AuditCheckpoint& c : plan->earlier) {
    ToProto(c, header->add_earlier_checkpoints());
  }
  header->set_verifier_key(audit_.VerifierKey());
  // The call was recorded as allowed; one that does not complete is
  // recorded again with why.
  auto failed = [&](const absl::Status& why) {
    audit_.ExportFailed(*plan, why);
    return ToGrpcStatus(why);
  };
  const absl::Status gone = absl::CancelledError(
      "the export stopped: the client went away or cancelled");
  if (!writer->Write(first)) return failed(gone);
  int64_t next = 1;
  while (next != 0) {
    if (context->IsCancelled()) return failed(gone);
    absl::StatusOr<EntryPage> page =
        audit_.ExportPage(*plan, next, kExportChunkEntries);
    if (!page.ok()) return failed(page.status());
    v1::ExportChunk chunk;
    for (const RecordedEntry& r : page->entries) {
      v1::ExportedEntry* out = chunk.add_entries();
      ToProto(r, out->mutable_record());
      for (const std::string& hash : r.proof) out->add_inclusion_proof(hash);
    }
    if (chunk.entries_size() > 0 && !writer->Write(chunk)) {
      return failed(gone);
    }
    next = page->next_seq;
  }
  return grpc::Status::OK;
}

grpc::Status AuditHandler::ListAccesses(grpc::ServerContext* context,
                                        const v1::ListAccessesRequest* request,
                                        v1::ListAccessesResponse* response) {
  absl::StatusOr<AccessReceipts> receipts =
      audit_.ListAccesses(peers_.Identify(*context), request->message_id());
  if (!receipts.ok()) return ToGrpcStatus(receipts.status());
  ToProto(receipts->checkpoint, response->mutable_checkpoint());
  for (const RecordedEntry& r : receipts->accesses) {
    v1::InclusionProof* access = response->add_accesses();
    ToProto(r, access->mutable_entry());
    access->set_tree_size(receipts->checkpoint.tree_size);
    for (const std::string& hash : r.proof) access->add_hashes(hash);
  }
  for (const std::string& copy : receipts->copies) response->add_copies(copy);
  response->set_truncated(receipts->truncated);
  return grpc::Status::OK;
}

}  // namespace liaison::server
