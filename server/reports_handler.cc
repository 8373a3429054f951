#include "server/reports_handler.h"

#include "common/grpc_status.h"
#include "server/convert.h"

namespace liaison::server {
namespace {

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(const RequestCounts& c, v1::RequestCounts* out) {
  out->set_total(c.total);
  out->set_urgent(c.urgent);
  out->set_routine(c.routine);
  out->set_open(c.open);
  out->set_acknowledged(c.acknowledged);
  out->set_answered(c.answered);
  out->set_refused(c.refused);
  out->set_overdue(c.overdue);
  for (const auto& [reason, n] : c.refused_by_reason) {
    (*out->mutable_refused_by_reason())[reason] = n;
  }
}

void ToProto(const std::map<std::string, RequestCounts>& in,
             google::protobuf::Map<std::string, v1::RequestCounts>* out) {
  for (const auto& [key, counts] : in) ToProto(counts, &(*out)[key]);
}

}  // namespace

grpc::Status ReportsHandler::GetStatistics(grpc::ServerContext* context,
                                           const v1::StatisticsRequest* request,
                                           v1::Statistics* response) {
  // A window left out is empty: from == to == the epoch.
  absl::StatusOr<Statistics> s = reports_.GetStatistics(
      peers_.Identify(*context), FromProto(request->from()),
      FromProto(request->to()), request->party());
  if (!s.ok()) return ToGrpcStatus(s.status());
  server::ToProto(s->from, response->mutable_from());
  server::ToProto(s->to, response->mutable_to());
  server::ToProto(s->as_of, response->mutable_as_of());
  response->set_party(s->party);
  ToProto(s->sent, response->mutable_sent());
  ToProto(s->received, response->mutable_received());
  ToProto(s->sent_by_party, response->mutable_sent_by_party());
  ToProto(s->received_by_party, response->mutable_received_by_party());
  ToProto(s->by_month, response->mutable_by_month());
  response->set_cases_opened(s->cases_opened);
  response->set_cases_closed(s->cases_closed);
  return grpc::Status::OK;
}

}  // namespace liaison::server
