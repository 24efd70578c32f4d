// SnoozeAlert's check and query body, shared by the gRPC handler (snooze_rpc.cc) and the
// dashboard's POST /api/v1/alerts/{alert_id}/snooze (dashboard_api.cc), so that both validate,
// find, write and log alike (as insights_queries.h does for the other queries).
#ifndef ALLIANCE_SERVICES_INSIGHTS_SNOOZE_QUERY_H_
#define ALLIANCE_SERVICES_INSIGHTS_SNOOZE_QUERY_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alliance/v1/insights.pb.h"
#include "services/insights/insights_queries.h"
#include "services/insights/tenant.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// The request's first error (alert_id, actor, the optional dyad hints, reason, then the time
// limit against `now` and --max_snooze), else when the snooze ends. No I/O.
absl::StatusOr<absl::Time> CheckSnoozeAlert(const alliance::v1::SnoozeAlertRequest& request,
                                            absl::Time now);

// Finds the caller's alert like AcknowledgeAlert does and snoozes it until `until`; fills
// `response`. On a Redis pool thread, for an authorized caller.
absl::Status SnoozeAlertQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                              const alliance::v1::SnoozeAlertRequest& request, absl::Time until,
                              alliance::v1::SnoozeAlertResponse* response);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_SNOOZE_QUERY_H_
