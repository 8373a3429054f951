// Fuzz target: every unary request as the server receives it after gRPC has
// parsed it. The first byte picks the RPC, the second the caller; the rest
// is that RPC's request message in protobuf wire format. The request is
// converted as the handlers convert it and run through the domain services
// on an in-memory store with the example roster: any crash, hang or
// sanitizer report is a bug; every outcome must be an absl::Status.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "domain/admin.h"
#include "domain/audit.h"
#include "domain/audit_log.h"
#include "domain/cases.h"
#include "domain/exchange.h"
#include "domain/reports.h"
#include "domain/roster.h"
#include "liaison/v1/admin.pb.h"
#include "liaison/v1/audit.pb.h"
#include "liaison/v1/cases.pb.h"
#include "liaison/v1/exchange.pb.h"
#include "server/convert.h"
#include "store/sqlite/sqlite_store.h"

namespace liaison {
namespace {

Identity Who(const std::string& party, Role role, const std::string& user) {
  Identity id;
  id.party = party;
  id.role = role;
  id.user_id = user;
  id.trust_domain = "selec.test";
  id.spiffe_id = "spiffe://selec.test/party/" + party + "/" +
                 std::string(RoleName(role)) + "/" + user;
  id.serial_hex = "0A" + user;
  return id;
}

struct World {
  World() {
    store = std::move(SqliteStore::Open(":memory:")).value();
    const std::string roster =
        "HQ MEMBER_STATE SECRET - Headquarters\n"
        "RO MEMBER_STATE SECRET - Romania\n"
        "HU MEMBER_STATE SECRET - Hungary\n"
        "XOP OPERATIONAL_PARTNER RESTRICTED in-force Partner\n"
        "XOB OBSERVER UNCLASSIFIED - Observer\n";
    (void)SeedRoster(*store, audit, clock, *ParseRoster(roster));
    exchange = std::make_unique<ExchangeService>(*store, audit, clock);
    admin = std::make_unique<AdminService>(*store, audit, clock);
    cases = std::make_unique<CaseService>(*store, audit, clock);
    reports = std::make_unique<ReportService>(*store, audit, clock);
    checkpointer = std::make_unique<Checkpointer>(
        *store,
        MakeNoteCheckpointSigner(*NoteSigner::FromPrivateKey(
            *GenerateNotePrivateKey("fuzz.example/audit"))),
        clock, CheckpointOptions{});
    auditing =
        std::make_unique<AuditService>(*store, audit, clock, *checkpointer);
    callers = {Who("RO", Role::kLiaisonOfficer, "ion"),
               Who("HU", Role::kFocalPoint, "nfp"),
               Who("XOB", Role::kLiaisonOfficer, "obs"),
               Who("HQ", Role::kAdmin, "adm"),
               Who("HQ", Role::kAuditor, "aud"),
               Who("XOP", Role::kLiaisonOfficer, "op")};
    // Something to act on: a request RO sent to HU.
    SendCommand c;
    c.recipients = {"HU"};
    c.kind = MessageKind::kRequest;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = "seed";
    c.content.subject = "Seed";
    c.content.body = "Seed";
    c.content.classification = Classification::kUnclassified;
    c.content.handling_code = HandlingCode::kH0;
    (void)exchange->SendMessage(callers[0], c);
  }

  SystemClock clock;
  StoreAuditLog audit;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<ExchangeService> exchange;
  std::unique_ptr<AdminService> admin;
  std::unique_ptr<CaseService> cases;
  std::unique_ptr<ReportService> reports;
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<AuditService> auditing;
  std::vector<Identity> callers;
};

template <typename Request>
bool Parse(const uint8_t* data, size_t size, Request& request) {
  return request.ParseFromArray(data, static_cast<int>(size));
}

void Run(World& w, uint8_t rpc, const Caller& who, const uint8_t* data,
         size_t size) {
  switch (rpc % 22) {
    case 0: {
      v1::SendMessageRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->SendMessage(who, server::ToSendCommand(r));
      }
      break;
    }
    case 1: {
      v1::ReplyRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->Reply(who, server::ToReplyCommand(r));
      }
      break;
    }
    case 2: {
      v1::GetMessageRequest r;
      if (Parse(data, size, r))
        (void)w.exchange->GetMessage(who, r.message_id());
      break;
    }
    case 3: {
      v1::ListInboxRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->ListInbox(who, {r.page_size(), r.page_token()});
      }
      break;
    }
    case 4: {
      v1::ListOutboxRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->ListOutbox(who, {r.page_size(), r.page_token()});
      }
      break;
    }
    case 5: {
      v1::ListRequestsRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->ListRequests(who, server::ToRequestFilter(r));
      }
      break;
    }
    case 6: {
      v1::RefuseRequestRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->RefuseRequest(who, server::ToRefuseCommand(r));
      }
      break;
    }
    case 7: {
      v1::AcknowledgeRequestRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->AcknowledgeRequest(who, r.request_id());
      }
      break;
    }
    case 8: {
      v1::SetHandlingRequest r;
      if (Parse(data, size, r)) {
        (void)w.exchange->SetHandling(who, r.message_id(),
                                      server::ToChoice(r.handling().code()),
                                      r.handling().restriction());
      }
      break;
    }
    case 9: {
      v1::ForwardRequest r;
      if (Parse(data, size, r)) {
        ForwardCommand c;
        c.message_id = r.message_id();
        c.recipients.assign(r.recipients().begin(), r.recipients().end());
        c.idempotency_key = r.idempotency_key();
        (void)w.exchange->Forward(who, c);
      }
      break;
    }
    case 10: {
      v1::OpenCaseRequest r;
      if (Parse(data, size, r)) {
        (void)w.cases->OpenCase(
            who, r.title(), {r.participants().begin(), r.participants().end()});
      }
      break;
    }
    case 11: {
      v1::CaseRequest r;
      if (Parse(data, size, r)) (void)w.cases->GetCase(who, r.case_id());
      break;
    }
    case 12: {
      v1::RegisterPartyRequest r;
      if (Parse(data, size, r)) {
        (void)w.admin->RegisterParty(who, server::ToRegisterCommand(r));
      }
      break;
    }
    case 13: {
      v1::SuspendPartyRequest r;
      if (Parse(data, size, r)) {
        (void)w.admin->SuspendParty(who, r.code(), r.reason());
        (void)w.admin->ReinstateParty(who, r.code(), r.reason());
      }
      break;
    }
    case 14: {
      v1::GetPartyRequest r;
      if (Parse(data, size, r)) (void)w.admin->GetParty(who, r.code());
      break;
    }
    case 15: {
      v1::ListEntriesRequest r;
      if (Parse(data, size, r)) {
        (void)w.auditing->ListEntries(who, r.from_seq(), r.to_seq(),
                                      r.page_size());
      }
      break;
    }
    case 16: {
      v1::GetInclusionProofRequest r;
      if (Parse(data, size, r)) {
        (void)w.auditing->GetInclusionProof(who, r.seq(), r.tree_size());
      }
      break;
    }
    case 17: {
      v1::GetConsistencyProofRequest r;
      if (Parse(data, size, r)) {
        (void)w.auditing->GetConsistencyProof(who, r.old_size(), r.new_size());
      }
      break;
    }
    case 18: {
      v1::ListAccessesRequest r;
      if (Parse(data, size, r)) {
        (void)w.auditing->ListAccesses(who, r.message_id());
      }
      break;
    }
    case 19: {
      v1::ExportRequest r;
      if (Parse(data, size, r)) {
        absl::StatusOr<ExportPlan> plan =
            w.auditing->BeginExport(who, r.tree_size());
        if (plan.ok()) (void)w.auditing->ExportPage(*plan, 1, 50);
      }
      break;
    }
    case 20: {
      v1::RequestConsentRequest r;
      if (Parse(data, size, r)) {
        ConsentRequestCommand c;
        c.message_id = r.message_id();
        c.target_party = r.to();
        c.justification = r.justification();
        (void)w.exchange->RequestConsent(who, c);
      }
      break;
    }
    default: {
      v1::AttachMessageRequest r;
      if (Parse(data, size, r)) {
        (void)w.cases->AttachMessage(who, r.case_id(), r.message_id());
      }
      break;
    }
  }
}

}  // namespace
}  // namespace liaison

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static liaison::World* world = [] {
    // Invalid UTF-8 is refused by the parse, as gRPC refuses it; quietly.
    google::protobuf::SetLogHandler(nullptr);
    return new liaison::World();
  }();
  if (size < 2) return 0;
  const liaison::Caller who = world->callers[data[1] % world->callers.size()];
  liaison::Run(*world, data[0], who, data + 2, size - 2);
  return 0;
}
