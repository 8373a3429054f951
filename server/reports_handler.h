// gRPC adapter for liaison.v1.Reports.
#ifndef LIAISON_SERVER_REPORTS_HANDLER_H_
#define LIAISON_SERVER_REPORTS_HANDLER_H_

#include "domain/reports.h"
#include "liaison/v1/reports.grpc.pb.h"
#include "server/peer_identity.h"

namespace liaison::server {

class ReportsHandler final : public v1::Reports::Service {
 public:
  // Both must outlive the handler.
  ReportsHandler(ReportService& reports, PeerIdentifier& peers)
      : reports_(reports), peers_(peers) {}

  // liaison.v1.Reports
  grpc::Status GetStatistics(grpc::ServerContext* context,
                             const v1::StatisticsRequest* request,
                             v1::Statistics* response) override;

 private:
  ReportService& reports_;
  PeerIdentifier& peers_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_REPORTS_HANDLER_H_
