// The dashboard's JSON routes; see dashboard_api.h. Each route builds the gRPC request message
// from the path, the query and the body, then runs the same check and query body as the gRPC
// handler (insights_queries.h) on the Redis pool.
#include "services/insights/dashboard_api.h"

#include <google/protobuf/util/json_util.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/http_auth.h"
#include "common/strings.h"
#include "services/insights/dashboard_json.h"
#include "services/insights/dashboard_params.h"
#include "services/insights/dashboard_sse.h"
#include "services/insights/instruments_rpc.h"
#include "services/insights/metered_http_call.h"
#include "services/insights/snooze_query.h"
#include "services/insights/tenant.h"

namespace alliance::insights {
namespace {

// The routes' calls answer in JSON: {"error": ...} or the response message.
class Call : public MeteredHttpCall {
 public:
  Call(ServiceMetrics* metrics, std::string_view method, http::Responder respond)
      : MeteredHttpCall(metrics, method, std::move(respond), &ErrorResponse) {}
  void Succeed(std::string json) { Finish(absl::OkStatus(), JsonResponse(std::move(json))); }
};

// A query body: fills its response message for an authorized caller on a pool thread and
// returns it as JSON.
using Body = std::function<absl::StatusOr<std::string>(RedisExecutor&, const Caller&)>;

// The one path of every Redis-backed route, as InsightsService::Run for gRPC: the caller's
// authentication and authorization error first (so an unauthorized caller learns nothing about
// its request), then the request's, then the query on the Redis pool. The caller is the key's
// or the session cookie's (dashboard_session.h), resolved before the query is queued.
void Run(const DashboardDeps& deps, const http::Request& request, std::string_view method,
         http::Responder respond, std::string tenant, const absl::Status& invalid, Body body) {
  auto call = std::make_shared<Call>(deps.metrics, method, std::move(respond));
  deps.auth->Authorize(
      request, Scope::kRead, std::move(tenant),
      [pool = deps.pool, call, invalid,
       body = std::move(body)](absl::StatusOr<Principal> principal) {
        absl::StatusOr<Caller> caller = CallerOf(std::move(principal));
        if (!caller.ok()) return call->Fail(caller.status());
        if (!invalid.ok()) return call->Fail(invalid);
        const bool queued =
            pool->Submit([call, caller = *caller, body](absl::StatusOr<RedisExecutor*> redis) {
              if (!redis.ok()) return call->Fail(redis.status());
              absl::StatusOr<std::string> json = body(**redis, caller);
              if (!json.ok()) return call->Fail(json.status());
              call->Succeed(*std::move(json));
            });
        if (!queued) {
          call->Fail(absl::ResourceExhaustedError("too many queries queued; retry later"));
        }
      });
}

// First error of the parsed parameters.
absl::Status FirstError(std::initializer_list<absl::Status> checks) {
  for (const absl::Status& s : checks) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void ServeInstruments(const DashboardDeps& deps, const http::Request& request,
                      http::Responder respond) {
  auto call = std::make_shared<Call>(deps.metrics, "ListInstruments", std::move(respond));
  // As the gRPC method: the same list for every tenant, so only the key and its scope count.
  deps.auth->Authorize(
      request, Scope::kRead, "",
      [call, registry = deps.queries->registry](const absl::StatusOr<Principal>& principal) {
        if (!principal.ok()) return call->Fail(principal.status());
        call->Succeed(ProtoJson(ListInstruments(*registry)));
      });
}

void ServeListDyads(const DashboardDeps& deps, const http::Request& request,
                    http::Responder respond) {
  alliance::v1::ListDyadsRequest message;
  absl::StatusOr<bool> at_risk = BoolParam(request, "at_risk_only");
  absl::StatusOr<bool> open_rupture = BoolParam(request, "open_rupture_only");
  absl::StatusOr<bool> unrepaired = BoolParam(request, "unrepaired_only");
  absl::StatusOr<int> page_size = IntParam(request, "page_size");
  absl::Status invalid = FirstError(
      {at_risk.status(), open_rupture.status(), unrepaired.status(), page_size.status()});
  absl::StatusOr<DyadListQuery> query = DyadListQuery{};
  if (!invalid.ok()) {
    query = invalid;
  } else {
    message.set_therapist_id(std::string(request.QueryParam("therapist_id")));
    message.set_at_risk_only(*at_risk);
    message.set_open_rupture_only(*open_rupture);
    message.set_unrepaired_only(*unrepaired);
    message.set_page_size(*page_size);
    message.set_page_token(std::string(request.QueryParam("page_token")));
    query = PrepareListDyads(message, *deps.queries);
  }
  Run(deps, request, "ListDyads", std::move(respond), std::string(request.QueryParam("tenant")),
      query.status(),
      [queries = deps.queries, query = query.value_or(DyadListQuery{})](
          RedisExecutor& redis, const Caller& who) -> absl::StatusOr<std::string> {
        alliance::v1::ListDyadsResponse response;
        absl::Status s = ListDyadsQuery(redis, *queries, who, query, &response);
        if (!s.ok()) return s;
        return ProtoJson(response);
      });
}

void ServeDyad(const DashboardDeps& deps, const http::Request& request, bool timeline,
               http::Responder respond) {
  std::string therapist = request.path_params.at(0);
  std::string client = request.path_params.at(1);
  absl::Status invalid = CheckDyadIds(therapist, client);
  Run(deps, request, timeline ? "GetDyadTimeline" : "GetDyad", std::move(respond),
      std::string(request.QueryParam("tenant")), invalid,
      [queries = deps.queries, timeline, therapist = std::move(therapist),
       client = std::move(client)](RedisExecutor& redis,
                                   const Caller& who) -> absl::StatusOr<std::string> {
        if (timeline) {
          alliance::v1::GetDyadTimelineResponse response;
          absl::Status s = GetDyadTimelineQuery(redis, *queries, who, therapist, client, &response);
          if (!s.ok()) return s;
          return ProtoJson(response);
        }
        alliance::v1::GetDyadResponse response;
        absl::Status s = GetDyadQuery(redis, *queries, who, therapist, client, &response);
        if (!s.ok()) return s;
        return ProtoJson(response);
      });
}

void ServeListAlerts(const DashboardDeps& deps, const http::Request& request,
                     http::Responder respond) {
  alliance::v1::ListAlertsRequest message;
  absl::StatusOr<int> min_severity = SeverityParam(request, "min_severity");
  absl::StatusOr<int> status = AlertStatusParam(request, "status");
  absl::StatusOr<int> page_size = IntParam(request, "page_size");
  absl::Status invalid = FirstError({min_severity.status(), status.status(), page_size.status(),
                                     AlertKindsParam(request, "kinds", message.mutable_kinds())});
  absl::StatusOr<AlertListQuery> query = AlertListQuery{};
  if (!invalid.ok()) {
    query = invalid;
  } else {
    message.set_therapist_id(std::string(request.QueryParam("therapist_id")));
    message.set_client_id(std::string(request.QueryParam("client_id")));
    message.set_min_severity(static_cast<alliance::v1::Severity>(*min_severity));
    message.set_status(static_cast<alliance::v1::AlertStatus>(*status));
    message.set_page_size(*page_size);
    message.set_page_token(std::string(request.QueryParam("page_token")));
    query = PrepareListAlerts(message, *deps.queries);
  }
  Run(deps, request, "ListAlerts", std::move(respond), std::string(request.QueryParam("tenant")),
      query.status(),
      [queries = deps.queries, query = query.value_or(AlertListQuery{})](
          RedisExecutor& redis, const Caller& who) -> absl::StatusOr<std::string> {
        alliance::v1::ListAlertsResponse response;
        absl::Status s = ListAlertsQuery(redis, *queries, who, query, &response);
        if (!s.ok()) return s;
        return ProtoJson(response);
      });
}

// The body of a POST on an alert (empty: every field at its default) into `message`, the gRPC
// request in proto3 JSON; its alert_id and tenant_id may repeat the path's alert and ?tenant=
// but not contradict them. *tenant: the tenant asked for (empty: the caller's).
absl::Status ParseAlertBody(const http::Request& request, google::protobuf::Message* message,
                            std::string* tenant) {
  if (!request.body.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(request.body, message, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("body: ", std::string(status.message().data(), status.message().size())));
    }
  }
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  const std::string body_alert =
      reflection->GetString(*message, descriptor->FindFieldByName("alert_id"));
  const std::string body_tenant =
      reflection->GetString(*message, descriptor->FindFieldByName("tenant_id"));
  if (!body_alert.empty() && body_alert != request.path_params.at(0)) {
    return absl::InvalidArgumentError("alert_id: the body names another alert than the path");
  }
  *tenant = std::string(request.QueryParam("tenant"));
  if (!tenant->empty() && !body_tenant.empty() && *tenant != body_tenant) {
    return absl::InvalidArgumentError("tenant_id: the body names another tenant than ?tenant=");
  }
  if (tenant->empty()) *tenant = body_tenant;
  return absl::OkStatus();
}

// POST .../acknowledge and .../resolve: the body is the gRPC request's other fields in proto3
// JSON (actor, therapistId, clientId; tenantId optional); the alert id is the path's.
void ServeStatusChange(const DashboardDeps& deps, const http::Request& request, bool resolve,
                       http::Responder respond) {
  alliance::v1::AcknowledgeAlertRequest message;  // ResolveAlertRequest has the same fields
  std::string tenant;
  absl::Status invalid = ParseAlertBody(request, &message, &tenant);
  const std::string alert_id = request.path_params.at(0);
  AlertStatusChangeRequest change{resolve ? "ResolveAlert" : "AcknowledgeAlert",
                                  alert_id,
                                  message.actor(),
                                  message.therapist_id(),
                                  message.client_id(),
                                  resolve};
  if (invalid.ok()) invalid = CheckAlertStatusChange(change);
  const std::string method = change.method;
  Run(deps, request, method, std::move(respond), std::move(tenant), invalid,
      [queries = deps.queries, change = std::move(change)](
          RedisExecutor& redis, const Caller& who) -> absl::StatusOr<std::string> {
        alliance::v1::Alert alert;
        absl::Status s = AlertStatusChangeQuery(redis, *queries, who, change, &alert);
        if (!s.ok()) return s;
        if (change.resolve) {
          alliance::v1::ResolveAlertResponse response;
          *response.mutable_alert() = std::move(alert);
          return ProtoJson(response);
        }
        alliance::v1::AcknowledgeAlertResponse response;
        *response.mutable_alert() = std::move(alert);
        return ProtoJson(response);
      });
}

// POST .../snooze: the body is SnoozeAlertRequest's other fields in proto3 JSON (actor, reason,
// until or duration, therapistId, clientId; tenantId optional); the alert id is the path's.
void ServeSnooze(const DashboardDeps& deps, const http::Request& request, http::Responder respond) {
  alliance::v1::SnoozeAlertRequest message;
  std::string tenant;
  absl::Status invalid = ParseAlertBody(request, &message, &tenant);
  message.set_alert_id(request.path_params.at(0));
  absl::StatusOr<absl::Time> until = absl::Time();
  if (invalid.ok()) until = CheckSnoozeAlert(message, absl::Now());
  if (invalid.ok()) invalid = until.status();
  Run(deps, request, "SnoozeAlert", std::move(respond), std::move(tenant), invalid,
      [queries = deps.queries, message = std::move(message), until = until.value_or(absl::Time())](
          RedisExecutor& redis, const Caller& who) -> absl::StatusOr<std::string> {
        alliance::v1::SnoozeAlertResponse response;
        absl::Status s = SnoozeAlertQuery(redis, *queries, who, message, until, &response);
        if (!s.ok()) return s;
        return ProtoJson(response);
      });
}

}  // namespace

void AddDashboardRoutes(const DashboardDeps& deps, http::Router& router) {
  // The handlers keep a pointer to this copy, which lives as long as the router's handlers.
  auto d = std::make_shared<const DashboardDeps>(deps);
  router.Handle("GET", "/api/v1/instruments", [d](http::Request request, http::Responder r) {
    ServeInstruments(*d, request, std::move(r));
  });
  router.Handle("GET", "/api/v1/dyads", [d](http::Request request, http::Responder r) {
    ServeListDyads(*d, request, std::move(r));
  });
  router.Handle("GET", "/api/v1/dyads/{therapist_id}/{client_id}",
                [d](http::Request request, http::Responder r) {
                  ServeDyad(*d, request, /*timeline=*/false, std::move(r));
                });
  router.Handle("GET", "/api/v1/dyads/{therapist_id}/{client_id}/timeline",
                [d](http::Request request, http::Responder r) {
                  ServeDyad(*d, request, /*timeline=*/true, std::move(r));
                });
  router.Handle("GET", "/api/v1/alerts", [d](http::Request request, http::Responder r) {
    ServeListAlerts(*d, request, std::move(r));
  });
  router.Handle("GET", "/api/v1/alerts/stream", [d](http::Request request, http::Responder r) {
    ServeAlertStream(d->watch, *d->auth, request, std::move(r));
  });
  router.Handle("POST", "/api/v1/alerts/{alert_id}/acknowledge",
                [d](http::Request request, http::Responder r) {
                  ServeStatusChange(*d, request, /*resolve=*/false, std::move(r));
                });
  router.Handle("POST", "/api/v1/alerts/{alert_id}/resolve",
                [d](http::Request request, http::Responder r) {
                  ServeStatusChange(*d, request, /*resolve=*/true, std::move(r));
                });
  router.Handle(
      "POST", "/api/v1/alerts/{alert_id}/snooze",
      [d](http::Request request, http::Responder r) { ServeSnooze(*d, request, std::move(r)); });
}

}  // namespace alliance::insights
