// The AllianceInsights queries, shared by the gRPC handlers (insights_service.cc) and the
// dashboard's HTTP routes (dashboard_api.cc), so that both validate, read and log alike. Each
// query is a check (no I/O, on the calling thread: the request's first error in the order the
// API reports it) and a body run on a Redis pool thread for an authorized caller (fills the
// response, writes the access-log line).
#ifndef ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_QUERIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_QUERIES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/registry.h"
#include "analytics/summary_rules.h"
#include "services/insights/alert_queries.h"
#include "services/insights/dyad_queries.h"
#include "services/insights/tenant.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

struct QueryLimits {
  int dyad_max_examined = 5000;      // ListDyads: index members examined per call
  int alert_max_examined = 20000;    // ListAlerts: stream entries examined per call
  int lookup_max_examined = 100000;  // Acknowledge/Resolve without dyad hint: entries searched
  // Therapist summaries: active window and prior strengths (the --rules_file's).
  analytics::SummaryRules summaries;
};

// What the query bodies read with; everything outlives the calls.
struct QueryDeps {
  const KeyLayout* layout = nullptr;
  const analytics::InstrumentRegistry* registry = nullptr;
  QueryLimits limits;
};

// GetDyad and GetDyadTimeline: both ids required.
absl::Status CheckDyadIds(std::string_view therapist_id, std::string_view client_id);
absl::Status GetDyadQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                          const std::string& therapist_id, const std::string& client_id,
                          alliance::v1::GetDyadResponse* response);
absl::Status GetDyadTimelineQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                                  const std::string& therapist_id, const std::string& client_id,
                                  alliance::v1::GetDyadTimelineResponse* response);

// ListDyads: the validated request (its tenant is set by the body from the caller).
absl::StatusOr<DyadListQuery> PrepareListDyads(const alliance::v1::ListDyadsRequest& request,
                                               const QueryDeps& deps);
absl::Status ListDyadsQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                            DyadListQuery query, alliance::v1::ListDyadsResponse* response);

// ListAlerts: the same.
absl::StatusOr<AlertListQuery> PrepareListAlerts(const alliance::v1::ListAlertsRequest& request,
                                                 const QueryDeps& deps);
absl::Status ListAlertsQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                             AlertListQuery query, alliance::v1::ListAlertsResponse* response);

// AcknowledgeAlert and ResolveAlert (`method` names which, for the access log).
struct AlertStatusChangeRequest {
  std::string method;
  std::string alert_id;
  std::string actor;
  std::string therapist_id;  // optional hints: read from the dyad instead of searching
  std::string client_id;
  bool resolve = false;
};
absl::Status CheckAlertStatusChange(const AlertStatusChangeRequest& request);
absl::Status AlertStatusChangeQuery(RedisExecutor& redis, const QueryDeps& deps,
                                    const Caller& caller, const AlertStatusChangeRequest& request,
                                    alliance::v1::Alert* out);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_QUERIES_H_
