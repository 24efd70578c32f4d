// The checks and bodies of the AllianceInsights queries; see insights_queries.h.
#include "services/insights/insights_queries.h"

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/insights/access_log.h"
#include "services/insights/timeline.h"
#include "services/insights/tokens.h"
#include "store/alert_status_reads.h"
#include "store/alert_writes.h"
#include "store/dyad_reads.h"

namespace alliance::insights {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

// First error of a list of checks.
absl::Status FirstError(std::initializer_list<absl::Status> checks) {
  for (const absl::Status& s : checks) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void FillIds(const alliance::internal::v1::DyadRecord& record, alliance::v1::Dyad* dyad) {
  dyad->set_tenant_id(record.tenant_id());
  dyad->set_therapist_id(record.therapist_id());
  dyad->set_client_id(record.client_id());
}

}  // namespace

absl::Status CheckDyadIds(std::string_view therapist_id, std::string_view client_id) {
  return FirstError(
      {CheckId("therapist_id", therapist_id, false), CheckId("client_id", client_id, false)});
}

absl::Status GetDyadQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                          const std::string& therapist_id, const std::string& client_id,
                          alliance::v1::GetDyadResponse* response) {
  absl::StatusOr<alliance::internal::v1::DyadRecord> record =
      ReadTenantDyad(redis, *deps.layout, caller.tenant, therapist_id, client_id);
  if (!record.ok()) return record.status();
  *response->mutable_dyad() = record->picture();
  FillIds(*record, response->mutable_dyad());
  LogAccess("GetDyad", caller, {absl::StrCat(therapist_id, ":", client_id)}, {});
  return absl::OkStatus();
}

absl::Status GetDyadTimelineQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                                  const std::string& therapist_id, const std::string& client_id,
                                  alliance::v1::GetDyadTimelineResponse* response) {
  const std::string& tenant = caller.tenant;
  absl::StatusOr<alliance::internal::v1::DyadRecord> record =
      ReadTenantDyad(redis, *deps.layout, tenant, therapist_id, client_id);
  if (!record.ok()) return record.status();
  std::vector<alliance::v1::Alert*> alerts;
  for (alliance::v1::Alert& alert : *record->mutable_alerts()) alerts.push_back(&alert);
  if (absl::Status s = ReadAlertStatuses(redis, *deps.layout, tenant, alerts); !s.ok()) {
    return s;
  }
  *response = BuildTimeline(*record, *deps.registry);
  LogAccess("GetDyadTimeline", caller, {absl::StrCat(therapist_id, ":", client_id)}, {});
  return absl::OkStatus();
}

absl::StatusOr<DyadListQuery> PrepareListDyads(const alliance::v1::ListDyadsRequest& request,
                                               const QueryDeps& deps) {
  absl::StatusOr<int> page_size = PageSize(request.page_size());
  if (absl::Status invalid =
          FirstError({page_size.status(), CheckId("therapist_id", request.therapist_id(), true)});
      !invalid.ok()) {
    return invalid;
  }
  DyadListQuery query;
  if (!request.page_token().empty()) {
    absl::StatusOr<std::string> after = DecodeDyadPageToken(request.page_token());
    if (!after.ok()) return after.status();
    query.after = *std::move(after);
  }
  query.therapist = request.therapist_id();
  query.at_risk_only = request.at_risk_only();
  query.open_rupture_only = request.open_rupture_only();
  query.unrepaired_only = request.unrepaired_only();
  query.page_size = *page_size;
  query.max_examined = deps.limits.dyad_max_examined;
  return query;
}

absl::Status ListDyadsQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                            DyadListQuery query, alliance::v1::ListDyadsResponse* response) {
  query.tenant = caller.tenant;
  absl::Status status = ListDyadsPage(redis, *deps.layout, query, response);
  if (status.ok()) {
    std::vector<std::string> dyads;
    for (const alliance::v1::Dyad& d : response->dyads())
      dyads.push_back(absl::StrCat(d.therapist_id(), ":", d.client_id()));
    LogAccess("ListDyads", caller, dyads, {});
  }
  return status;
}

absl::StatusOr<AlertListQuery> PrepareListAlerts(const alliance::v1::ListAlertsRequest& request,
                                                 const QueryDeps& deps) {
  absl::StatusOr<int> page_size = PageSize(request.page_size());
  absl::Status invalid =
      FirstError({page_size.status(), CheckId("therapist_id", request.therapist_id(), true),
                  CheckId("client_id", request.client_id(), true)});
  if (invalid.ok() && !alliance::v1::Severity_IsValid(request.min_severity())) {
    invalid = absl::InvalidArgumentError("min_severity: unknown value");
  }
  if (invalid.ok() && !alliance::v1::AlertStatus_IsValid(request.status())) {
    invalid = absl::InvalidArgumentError("status: unknown value");
  }
  AlertListQuery query;
  for (int kind : request.kinds()) {
    if (!alliance::v1::AlertKind_IsValid(kind)) {
      invalid = absl::InvalidArgumentError("kinds: unknown value");
    } else if (kind != alliance::v1::ALERT_KIND_UNSPECIFIED) {
      query.filter.kinds.insert(kind);
    }
  }
  if (invalid.ok() && !request.page_token().empty()) {
    absl::StatusOr<AlertWalk> walk =
        DecodeAlertPageToken(request.page_token(), deps.layout->partitions());
    if (walk.ok()) {
      query.walk = *std::move(walk);
    } else {
      invalid = walk.status();
    }
  }
  if (!invalid.ok()) return invalid;
  query.filter.therapist = request.therapist_id();
  query.filter.client = request.client_id();
  query.filter.min_severity = request.min_severity();
  query.status = request.status();
  query.page_size = *page_size;
  query.max_examined = deps.limits.alert_max_examined;
  return query;
}

absl::Status ListAlertsQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                             AlertListQuery query, alliance::v1::ListAlertsResponse* response) {
  query.filter.tenant = caller.tenant;
  absl::Status status = ListAlertsPage(redis, *deps.layout, query, response);
  if (status.ok()) {
    std::vector<std::string> alerts;
    for (const alliance::v1::Alert& a : response->alerts()) alerts.push_back(a.alert_id());
    LogAccess("ListAlerts", caller, {}, alerts);
  }
  return status;
}

absl::Status CheckAlertStatusChange(const AlertStatusChangeRequest& request) {
  return FirstError({CheckId("alert_id", request.alert_id, false),
                     CheckId("actor", request.actor, false),
                     CheckId("therapist_id", request.therapist_id, true),
                     CheckId("client_id", request.client_id, true)});
}

absl::Status AlertStatusChangeQuery(RedisExecutor& redis, const QueryDeps& deps,
                                    const Caller& caller, const AlertStatusChangeRequest& request,
                                    alliance::v1::Alert* out) {
  absl::StatusOr<alliance::v1::Alert> alert =
      FindAlert(redis, *deps.layout, caller.tenant, request.alert_id, request.therapist_id,
                request.client_id, deps.limits.lookup_max_examined);
  if (!alert.ok()) return alert.status();
  *out = *std::move(alert);
  LogAccess(request.method, caller, {}, {request.alert_id});
  return ChangeAlertStatus(
      redis, *deps.layout, caller.tenant, request.actor,
      request.resolve ? AlertStatusChange::kResolve : AlertStatusChange::kAcknowledge, out);
}

}  // namespace alliance::insights
