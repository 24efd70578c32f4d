// Request validation and the hand-off of every query to the Redis pool.
#include "services/insights/insights_service.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/insights/access_log.h"
#include "services/insights/alert_queries.h"
#include "services/insights/dyad_queries.h"
#include "services/insights/erasure.h"
#include "services/insights/instruments_rpc.h"
#include "services/insights/tenant.h"
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

InsightsService::InsightsService(RedisPool* pool, const KeyLayout* layout,
                                 const analytics::InstrumentRegistry* registry,
                                 ServiceMetrics* metrics, WatchEnvironment* watch,
                                 QueryLimits limits, const Authorizer* authorizer)
    : pool_(pool),
      layout_(layout),
      registry_(registry),
      metrics_(metrics),
      watch_(watch),
      limits_(limits),
      authorizer_(authorizer) {}

grpc::ServerUnaryReactor* InsightsService::Run(grpc::CallbackServerContext* context,
                                               std::string_view method, const absl::Status& auth,
                                               absl::Status invalid, Query query) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = [this, reactor, method = std::string(method),
                 start = absl::Now()](const absl::Status& status) {
    grpc::Status out = ToGrpcStatus(status);
    if (out.error_code() == grpc::INTERNAL || out.error_code() == grpc::UNAVAILABLE ||
        out.error_code() == grpc::DATA_LOSS) {
      LogWarning("query_failed", {{"method", std::string_view(method)},
                                  {"code", static_cast<int64_t>(out.error_code())},
                                  {"error", Std(status.message())}});
    }
    metrics_->RecordCall(method, out.error_code(), absl::Now() - start);
    reactor->Finish(out);
  };
  if (!auth.ok()) {
    finish(auth);
    return reactor;
  }
  if (!invalid.ok()) {
    finish(invalid);
    return reactor;
  }
  bool queued = pool_->Submit(
      [context, query = std::move(query), finish](absl::StatusOr<RedisExecutor*> redis) {
        if (!redis.ok()) return finish(redis.status());
        if (context->IsCancelled()) return finish(absl::CancelledError("cancelled by the client"));
        finish(query(**redis));
      });
  if (!queued) finish(absl::ResourceExhaustedError("too many queries queued; retry later"));
  return reactor;
}

grpc::ServerUnaryReactor* InsightsService::GetDyad(grpc::CallbackServerContext* context,
                                                   const alliance::v1::GetDyadRequest* request,
                                                   alliance::v1::GetDyadResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid = FirstError({CheckId("therapist_id", request->therapist_id(), false),
                                     CheckId("client_id", request->client_id(), false)});
  return Run(context, "GetDyad", caller.status(), invalid,
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::StatusOr<alliance::internal::v1::DyadRecord> record = ReadTenantDyad(
                   redis, *layout_, caller.tenant, request->therapist_id(), request->client_id());
               if (!record.ok()) return record.status();
               *response->mutable_dyad() = record->picture();
               FillIds(*record, response->mutable_dyad());
               LogAccess("GetDyad", caller,
                         {absl::StrCat(request->therapist_id(), ":", request->client_id())}, {});
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* InsightsService::ListDyads(grpc::CallbackServerContext* context,
                                                     const alliance::v1::ListDyadsRequest* request,
                                                     alliance::v1::ListDyadsResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::StatusOr<int> page_size = PageSize(request->page_size());
  DyadListQuery query;
  absl::Status invalid =
      FirstError({page_size.status(), CheckId("therapist_id", request->therapist_id(), true)});
  if (invalid.ok() && !request->page_token().empty()) {
    absl::StatusOr<std::string> after = DecodeDyadPageToken(request->page_token());
    if (after.ok()) {
      query.after = *std::move(after);
    } else {
      invalid = after.status();
    }
  }
  if (caller.ok() && invalid.ok()) {
    query.tenant = caller->tenant;
    query.therapist = request->therapist_id();
    query.at_risk_only = request->at_risk_only();
    query.open_rupture_only = request->open_rupture_only();
    query.unrepaired_only = request->unrepaired_only();
    query.page_size = *page_size;
    query.max_examined = limits_.dyad_max_examined;
  }
  return Run(context, "ListDyads", caller.status(), invalid,
             [this, query, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::Status status = ListDyadsPage(redis, *layout_, query, response);
               if (status.ok()) {
                 std::vector<std::string> dyads;
                 for (const alliance::v1::Dyad& d : response->dyads())
                   dyads.push_back(absl::StrCat(d.therapist_id(), ":", d.client_id()));
                 LogAccess("ListDyads", caller, dyads, {});
               }
               return status;
             });
}

grpc::ServerUnaryReactor* InsightsService::GetDyadTimeline(
    grpc::CallbackServerContext* context, const alliance::v1::GetDyadTimelineRequest* request,
    alliance::v1::GetDyadTimelineResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid = FirstError({CheckId("therapist_id", request->therapist_id(), false),
                                     CheckId("client_id", request->client_id(), false)});
  return Run(context, "GetDyadTimeline", caller.status(), invalid,
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               const std::string& tenant = caller.tenant;
               absl::StatusOr<alliance::internal::v1::DyadRecord> record = ReadTenantDyad(
                   redis, *layout_, tenant, request->therapist_id(), request->client_id());
               if (!record.ok()) return record.status();
               std::vector<alliance::v1::Alert*> alerts;
               for (alliance::v1::Alert& alert : *record->mutable_alerts())
                 alerts.push_back(&alert);
               if (absl::Status s = ReadAlertStatuses(redis, *layout_, tenant, alerts); !s.ok()) {
                 return s;
               }
               *response = BuildTimeline(*record, *registry_);
               LogAccess("GetDyadTimeline", caller,
                         {absl::StrCat(request->therapist_id(), ":", request->client_id())}, {});
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* InsightsService::ListAlerts(
    grpc::CallbackServerContext* context, const alliance::v1::ListAlertsRequest* request,
    alliance::v1::ListAlertsResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::StatusOr<int> page_size = PageSize(request->page_size());
  absl::Status invalid =
      FirstError({page_size.status(), CheckId("therapist_id", request->therapist_id(), true),
                  CheckId("client_id", request->client_id(), true)});
  if (invalid.ok() && !alliance::v1::Severity_IsValid(request->min_severity())) {
    invalid = absl::InvalidArgumentError("min_severity: unknown value");
  }
  if (invalid.ok() && !alliance::v1::AlertStatus_IsValid(request->status())) {
    invalid = absl::InvalidArgumentError("status: unknown value");
  }
  AlertListQuery query;
  for (int kind : request->kinds()) {
    if (!alliance::v1::AlertKind_IsValid(kind)) {
      invalid = absl::InvalidArgumentError("kinds: unknown value");
    } else if (kind != alliance::v1::ALERT_KIND_UNSPECIFIED) {
      query.filter.kinds.insert(kind);
    }
  }
  if (invalid.ok() && !request->page_token().empty()) {
    absl::StatusOr<AlertWalk> walk =
        DecodeAlertPageToken(request->page_token(), layout_->partitions());
    if (walk.ok()) {
      query.walk = *std::move(walk);
    } else {
      invalid = walk.status();
    }
  }
  if (caller.ok() && invalid.ok()) {
    query.filter.tenant = caller->tenant;
    query.filter.therapist = request->therapist_id();
    query.filter.client = request->client_id();
    query.filter.min_severity = request->min_severity();
    query.status = request->status();
    query.page_size = *page_size;
    query.max_examined = limits_.alert_max_examined;
  }
  return Run(context, "ListAlerts", caller.status(), invalid,
             [this, query, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::Status status = ListAlertsPage(redis, *layout_, query, response);
               if (status.ok()) {
                 std::vector<std::string> alerts;
                 for (const alliance::v1::Alert& a : response->alerts())
                   alerts.push_back(a.alert_id());
                 LogAccess("ListAlerts", caller, {}, alerts);
               }
               return status;
             });
}

grpc::ServerUnaryReactor* InsightsService::ChangeStatus(
    grpc::CallbackServerContext* context, std::string_view method, std::string_view tenant_id,
    std::string_view alert_id, std::string_view actor, std::string_view therapist,
    std::string_view client, bool resolve, alliance::v1::Alert* out) {
  absl::StatusOr<Caller> caller = ResolveCaller(*authorizer_, *context, Scope::kRead, tenant_id);
  absl::Status invalid =
      FirstError({CheckId("alert_id", alert_id, false), CheckId("actor", actor, false),
                  CheckId("therapist_id", therapist, true), CheckId("client_id", client, true)});
  return Run(context, method, caller.status(), invalid,
             [this, method = std::string(method), caller = caller.value_or(Caller{}),
              alert_id = std::string(alert_id), actor = std::string(actor),
              therapist = std::string(therapist), client = std::string(client), resolve,
              out](RedisExecutor& redis) {
               absl::StatusOr<alliance::v1::Alert> alert =
                   FindAlert(redis, *layout_, caller.tenant, alert_id, therapist, client,
                             limits_.lookup_max_examined);
               if (!alert.ok()) return alert.status();
               *out = *std::move(alert);
               LogAccess(method, caller, {}, {alert_id});
               return ChangeAlertStatus(
                   redis, *layout_, caller.tenant, actor,
                   resolve ? AlertStatusChange::kResolve : AlertStatusChange::kAcknowledge, out);
             });
}

grpc::ServerUnaryReactor* InsightsService::AcknowledgeAlert(
    grpc::CallbackServerContext* context, const alliance::v1::AcknowledgeAlertRequest* request,
    alliance::v1::AcknowledgeAlertResponse* response) {
  return ChangeStatus(context, "AcknowledgeAlert", request->tenant_id(), request->alert_id(),
                      request->actor(), request->therapist_id(), request->client_id(),
                      /*resolve=*/false, response->mutable_alert());
}

grpc::ServerUnaryReactor* InsightsService::ResolveAlert(
    grpc::CallbackServerContext* context, const alliance::v1::ResolveAlertRequest* request,
    alliance::v1::ResolveAlertResponse* response) {
  return ChangeStatus(context, "ResolveAlert", request->tenant_id(), request->alert_id(),
                      request->actor(), request->therapist_id(), request->client_id(),
                      /*resolve=*/true, response->mutable_alert());
}

grpc::ServerUnaryReactor* InsightsService::DeleteClientData(
    grpc::CallbackServerContext* context, const alliance::v1::DeleteClientDataRequest* request,
    alliance::v1::DeleteClientDataResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kAdmin, request->tenant_id());
  absl::Status invalid = CheckId("client_id", request->client_id(), false);
  return Run(context, "DeleteClientData", caller.status(), invalid,
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::StatusOr<alliance::v1::DeleteClientDataResponse> removed =
                   EraseClient(redis, *layout_, caller.tenant, request->client_id());
               if (!removed.ok()) return removed.status();
               *response = *std::move(removed);
               // Who erased, and how much; the client's id is not kept, not even here.
               LogInfo("client_data_erased",
                       {{"key_id", std::string_view(caller.key_id)},
                        {"tenant", std::string_view(caller.tenant)},
                        {"dyad_states", response->dyad_states()},
                        {"alert_entries", response->alert_entries()},
                        {"feedback_entries", response->feedback_entries()},
                        {"dead_letters", response->dead_letters()},
                        {"idempotency_records", response->idempotency_records()}});
               return absl::OkStatus();
             });
}

grpc::ServerUnaryReactor* InsightsService::ListInstruments(
    grpc::CallbackServerContext* context, const alliance::v1::ListInstrumentsRequest* /*request*/,
    alliance::v1::ListInstrumentsResponse* response) {
  const absl::Time start = absl::Now();
  // The list is the same for every tenant, so only the key and its scope are checked (an empty
  // tenant is the key's own); not ResolveCaller, which with auth disabled needs a tenant named.
  absl::StatusOr<Principal> caller = authorizer_->Authorize(*context, Scope::kRead, "");
  // No access-log line: instrument definitions are no dyad's or alert's data.
  if (caller.ok()) *response = insights::ListInstruments(*registry_);
  grpc::Status out = ToGrpcStatus(caller.status());
  metrics_->RecordCall("ListInstruments", out.error_code(), absl::Now() - start);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(out);
  return reactor;
}

grpc::ServerWriteReactor<alliance::v1::WatchAlertsResponse>* InsightsService::WatchAlerts(
    grpc::CallbackServerContext* context, const alliance::v1::WatchAlertsRequest* request) {
  return new WatchReactor(context, *request, watch_);
}

}  // namespace alliance::insights
