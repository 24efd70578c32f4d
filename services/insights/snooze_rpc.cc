// AllianceInsights.SnoozeAlert: checks the request (snooze_request.h), finds the alert like
// AcknowledgeAlert does (alert_queries.h) and snoozes it in its status hash
// (store/alert_writes.h), on the same path as every unary RPC (Run: auth, validation, pool).
// The reason is free text: it goes to the status hash and the response only, never to a log
// line or an error message.
#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "services/insights/access_log.h"
#include "services/insights/alert_queries.h"
#include "services/insights/insights_service.h"
#include "services/insights/snooze_request.h"
#include "services/insights/tenant.h"
#include "store/alert_writes.h"

ABSL_FLAG(absl::Duration, max_snooze, absl::Hours(24 * 30),
          "SnoozeAlert: the longest snooze a request may ask for (until or duration), e.g. "
          "720h; at least 1m.");

namespace alliance::insights {

grpc::ServerUnaryReactor* InsightsService::SnoozeAlert(
    grpc::CallbackServerContext* context, const alliance::v1::SnoozeAlertRequest* request,
    alliance::v1::SnoozeAlertResponse* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid = CheckId("alert_id", request->alert_id(), false);
  if (invalid.ok()) invalid = CheckId("actor", request->actor(), false);
  if (invalid.ok()) invalid = CheckId("therapist_id", request->therapist_id(), true);
  if (invalid.ok()) invalid = CheckId("client_id", request->client_id(), true);
  if (invalid.ok()) invalid = CheckSnoozeReason(request->reason());
  absl::Time until;
  if (invalid.ok()) {
    absl::StatusOr<absl::Time> end =
        SnoozeEnd(*request, absl::Now(), absl::GetFlag(FLAGS_max_snooze));
    if (end.ok()) {
      until = *end;
    } else {
      invalid = end.status();
    }
  }
  return Run(
      context, "SnoozeAlert", caller.status(), invalid,
      [this, request, response, until, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
        absl::StatusOr<alliance::v1::Alert> alert =
            FindAlert(redis, *layout_, caller.tenant, request->alert_id(), request->therapist_id(),
                      request->client_id(), limits_.lookup_max_examined);
        if (!alert.ok()) return alert.status();
        LogAccess("SnoozeAlert", caller, {}, {request->alert_id()});
        *response->mutable_alert() = *std::move(alert);
        // The script decides again, atomically: a resolve between the read and the write wins.
        return SnoozeAlertStatus(redis, *layout_, caller.tenant, request->actor(), until,
                                 request->reason(), response->mutable_alert());
      });
}

}  // namespace alliance::insights
