// SnoozeAlert's check and query body; see snooze_query.h. The reason is free text: it goes to
// the status hash and the response only, never to a log line or an error message.
#include "services/insights/snooze_query.h"

#include <utility>

#include "absl/flags/flag.h"
#include "services/insights/access_log.h"
#include "services/insights/alert_queries.h"
#include "services/insights/snooze_request.h"
#include "store/alert_writes.h"

ABSL_FLAG(absl::Duration, max_snooze, absl::Hours(24 * 30),
          "SnoozeAlert: the longest snooze a request may ask for (until or duration), e.g. "
          "720h; at least 1m.");

namespace alliance::insights {

absl::StatusOr<absl::Time> CheckSnoozeAlert(const alliance::v1::SnoozeAlertRequest& request,
                                            absl::Time now) {
  absl::Status invalid = CheckId("alert_id", request.alert_id(), false);
  if (invalid.ok()) invalid = CheckId("actor", request.actor(), false);
  if (invalid.ok()) invalid = CheckId("therapist_id", request.therapist_id(), true);
  if (invalid.ok()) invalid = CheckId("client_id", request.client_id(), true);
  if (invalid.ok()) invalid = CheckSnoozeReason(request.reason());
  if (!invalid.ok()) return invalid;
  return SnoozeEnd(request, now, absl::GetFlag(FLAGS_max_snooze));
}

absl::Status SnoozeAlertQuery(RedisExecutor& redis, const QueryDeps& deps, const Caller& caller,
                              const alliance::v1::SnoozeAlertRequest& request, absl::Time until,
                              alliance::v1::SnoozeAlertResponse* response) {
  absl::StatusOr<alliance::v1::Alert> alert =
      FindAlert(redis, *deps.layout, caller.tenant, request.alert_id(), request.therapist_id(),
                request.client_id(), deps.limits.lookup_max_examined);
  if (!alert.ok()) return alert.status();
  LogAccess("SnoozeAlert", caller, {}, {request.alert_id()});
  *response->mutable_alert() = *std::move(alert);
  // The script decides again, atomically: a resolve between the read and the write wins.
  return SnoozeAlertStatus(redis, *deps.layout, caller.tenant, request.actor(), until,
                           request.reason(), response->mutable_alert());
}

}  // namespace alliance::insights
