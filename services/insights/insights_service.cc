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
#include "services/insights/erasure.h"
#include "services/insights/insights_queries.h"
#include "services/insights/instruments_rpc.h"
#include "services/insights/tenant.h"

namespace alliance::insights {

InsightsService::InsightsService(RedisPool* pool, const KeyLayout* layout,
                                 const analytics::InstrumentRegistry* registry,
                                 ServiceMetrics* metrics, WatchEnvironment* watch,
                                 QueryLimits limits, const Authorizer* authorizer)
    : pool_(pool),
      layout_(layout),
      registry_(registry),
      fhir_definitions_(*registry),
      metrics_(metrics),
      watch_(watch),
      limits_(limits),
      authorizer_(authorizer),
      deps_{layout, registry, limits} {}

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
  return Run(context, "GetDyad", caller.status(),
             CheckDyadIds(request->therapist_id(), request->client_id()),
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               return GetDyadQuery(redis, deps_, caller, request->therapist_id(),
                                   request->client_id(), response);
             });
}

grpc::ServerUnaryReactor* InsightsService::ListDyads(grpc::CallbackServerContext* context,
                                                     const alliance::v1::ListDyadsRequest* request,
                                                     alliance::v1::ListDyadsResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::StatusOr<DyadListQuery> query = PrepareListDyads(*request, deps_);
  return Run(
      context, "ListDyads", caller.status(), query.status(),
      [this, query = query.value_or(DyadListQuery{}), response, caller = caller.value_or(Caller{})](
          RedisExecutor& redis) { return ListDyadsQuery(redis, deps_, caller, query, response); });
}

grpc::ServerUnaryReactor* InsightsService::GetDyadTimeline(
    grpc::CallbackServerContext* context, const alliance::v1::GetDyadTimelineRequest* request,
    alliance::v1::GetDyadTimelineResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  return Run(context, "GetDyadTimeline", caller.status(),
             CheckDyadIds(request->therapist_id(), request->client_id()),
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               return GetDyadTimelineQuery(redis, deps_, caller, request->therapist_id(),
                                           request->client_id(), response);
             });
}

grpc::ServerUnaryReactor* InsightsService::ListAlerts(
    grpc::CallbackServerContext* context, const alliance::v1::ListAlertsRequest* request,
    alliance::v1::ListAlertsResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::StatusOr<AlertListQuery> query = PrepareListAlerts(*request, deps_);
  return Run(context, "ListAlerts", caller.status(), query.status(),
             [this, query = query.value_or(AlertListQuery{}), response,
              caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               return ListAlertsQuery(redis, deps_, caller, query, response);
             });
}

grpc::ServerUnaryReactor* InsightsService::ChangeStatus(
    grpc::CallbackServerContext* context, std::string_view method, std::string_view tenant_id,
    std::string_view alert_id, std::string_view actor, std::string_view therapist,
    std::string_view client, bool resolve, alliance::v1::Alert* out) {
  absl::StatusOr<Caller> caller = ResolveCaller(*authorizer_, *context, Scope::kRead, tenant_id);
  AlertStatusChangeRequest change{std::string(method),    std::string(alert_id), std::string(actor),
                                  std::string(therapist), std::string(client),   resolve};
  absl::Status invalid = CheckAlertStatusChange(change);
  return Run(context, method, caller.status(), invalid,
             [this, caller = caller.value_or(Caller{}), change = std::move(change),
              out](RedisExecutor& redis) {
               return AlertStatusChangeQuery(redis, deps_, caller, change, out);
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
