// AllianceInsights.SnoozeAlert: the shared check and query body (snooze_query.h) on the same
// path as every unary RPC (Run: auth, validation, pool).
#include "absl/time/clock.h"
#include "services/insights/insights_service.h"
#include "services/insights/snooze_query.h"
#include "services/insights/tenant.h"

namespace alliance::insights {

grpc::ServerUnaryReactor* InsightsService::SnoozeAlert(
    grpc::CallbackServerContext* context, const alliance::v1::SnoozeAlertRequest* request,
    alliance::v1::SnoozeAlertResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::StatusOr<absl::Time> until = CheckSnoozeAlert(*request, absl::Now());
  return Run(context, "SnoozeAlert", caller.status(), until.status(),
             [this, request, response, until = until.value_or(absl::Time()),
              caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               return SnoozeAlertQuery(redis, deps_, caller, *request, until, response);
             });
}

}  // namespace alliance::insights
