// The dashboard's HTTP/JSON API on the insights' HTTP port (docs/dashboard.md): the
// AllianceInsights queries as GET routes answering their gRPC response messages in proto3 JSON,
// the alert workflow as POST routes, and live alerts as Server-Sent Events (dashboard_sse.h).
// Same keys, scopes, tenant rules, validation and errors as the gRPC API (the query code is
// shared: insights_queries.h); calls are counted under the gRPC method they mirror.
//   GET  /api/v1/instruments                                   ListInstrumentsResponse (read)
//   GET  /api/v1/dyads                                         ListDyadsResponse (read)
//   GET  /api/v1/dyads/{therapist_id}/{client_id}              GetDyadResponse (read)
//   GET  /api/v1/dyads/{therapist_id}/{client_id}/timeline     GetDyadTimelineResponse (read)
//   GET  /api/v1/alerts                                        ListAlertsResponse (read)
//   GET  /api/v1/alerts/stream                                 text/event-stream (watch)
//   POST /api/v1/alerts/{alert_id}/acknowledge                 AcknowledgeAlertResponse (read)
//   POST /api/v1/alerts/{alert_id}/resolve                     ResolveAlertResponse (read)
//   POST /api/v1/alerts/{alert_id}/snooze                      SnoozeAlertResponse (read)
// The caller is a key in the headers or the session cookie of a sign-in (dashboard_session.h,
// which serves /api/v1/session).
#ifndef ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_API_H_
#define ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_API_H_

#include "common/auth.h"
#include "common/http/http_server.h"
#include "services/insights/dashboard_session.h"
#include "services/insights/insights_queries.h"
#include "services/insights/redis_pool.h"
#include "services/insights/service_metrics.h"
#include "services/insights/watch_reactor.h"

namespace alliance::insights {

// What the routes use; everything must outlive the HTTP server.
struct DashboardDeps {
  RedisPool* pool = nullptr;
  const QueryDeps* queries = nullptr;
  const Authorizer* authorizer = nullptr;
  ServiceMetrics* metrics = nullptr;
  WatchEnvironment* watch = nullptr;  // the WatchAlerts streams' hub, limits and quota
  // Who calls: a key in the headers or the session cookie (dashboard_session.h).
  const RequestAuthenticator* auth = nullptr;
};

void AddDashboardRoutes(const DashboardDeps& deps, http::Router& router);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_API_H_
