#include "domain/reports.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace liaison {

void RequestCounts::Add(const RequestRow& row, absl::Time as_of) {
  ++total;
  ++(row.priority == Priority::kUrgent ? urgent : routine);
  switch (row.state) {
    case RequestState::kOpen:
      ++open;
      break;
    case RequestState::kAcknowledged:
      ++acknowledged;
      break;
    case RequestState::kAnswered:
      ++answered;
      break;
    case RequestState::kRefused:
      ++refused;
      if (row.refusal_reason.has_value()) {
        ++refused_by_reason[std::string(Name(*row.refusal_reason))];
      }
      break;
  }
  if ((row.state == RequestState::kOpen ||
       row.state == RequestState::kAcknowledged) &&
      row.due_at.has_value() && as_of > *row.due_at) {
    ++overdue;
  }
}

bool RequestCounts::operator==(const RequestCounts& o) const {
  return total == o.total && urgent == o.urgent && routine == o.routine &&
         open == o.open && acknowledged == o.acknowledged &&
         answered == o.answered && refused == o.refused &&
         overdue == o.overdue && refused_by_reason == o.refused_by_reason;
}

Statistics ComputeStatistics(const std::vector<RequestRow>& rows,
                             const std::string& party, absl::Time as_of) {
  Statistics s;
  s.party = party;
  s.as_of = as_of;
  for (const RequestRow& row : rows) {
    const std::string month =
        absl::FormatTime("%Y-%m", row.sent_at, absl::UTCTimeZone());
    if (party.empty()) {
      s.sent.Add(row, as_of);
      s.received.Add(row, as_of);
      s.sent_by_party[row.sender].Add(row, as_of);
      s.received_by_party[row.recipient].Add(row, as_of);
      s.by_month[month].Add(row, as_of);
      continue;
    }
    if (row.sender == party) {
      s.sent.Add(row, as_of);
      s.sent_by_party[row.recipient].Add(row, as_of);
      s.by_month[month].Add(row, as_of);
    }
    if (row.recipient == party) {
      s.received.Add(row, as_of);
      s.received_by_party[row.sender].Add(row, as_of);
    }
  }
  return s;
}

absl::StatusOr<Statistics> ReportService::GetStatistics(
    const Caller& caller, absl::Time from, absl::Time to,
    const std::string& party) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kGetStatistics));
  const bool hq_staff =
      call.identity.party == kHqParty && (call.identity.role == Role::kAdmin ||
                                          call.identity.role == Role::kAuditor);
  // Officers report on their own party unless they say otherwise.
  const std::string scope =
      party.empty() && !hq_staff ? call.identity.party : party;
  absl::Status valid = [&]() -> absl::Status {
    if (!(from < to)) {
      return absl::InvalidArgumentError(
          "from must be before to (the window is [from, to))");
    }
    if (!scope.empty() && !IsValidPartyCode(scope)) {
      return absl::InvalidArgumentError(
          absl::StrCat("party '", absl::CEscape(scope.substr(0, 32)),
                       "' is not a party code"));
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  if (!hq_staff && scope != call.identity.party) {
    return gate_.Refuse(call, absl::PermissionDeniedError(absl::StrCat(
                                  call.identity.party,
                                  " may see only its own figures; HQ admins "
                                  "and auditors see every party's")));
  }
  absl::StatusOr<std::vector<RequestRow>> rows =
      store_.ListRequestRows(from, to, scope);
  if (!rows.ok()) return gate_.Refuse(call, rows.status());
  absl::StatusOr<std::pair<int64_t, int64_t>> cases =
      store_.CountCases(from, to, scope);
  if (!cases.ok()) return gate_.Refuse(call, cases.status());

  Statistics statistics = ComputeStatistics(*rows, scope, gate_.Now());
  statistics.from = from;
  statistics.to = to;
  statistics.cases_opened = cases->first;
  statistics.cases_closed = cases->second;
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(
      call, {scope.empty() ? std::string("all parties") : scope}));
  return statistics;
}

}  // namespace liaison
