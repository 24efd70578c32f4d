// The alert workflow transitions, acknowledge, resolve and snooze: each one atomic Lua script
// (store/lua/acknowledge_alert.lua, store/lua/resolve_alert.lua, store/lua/snooze_alert.lua)
// on the alert's status hash (KeyLayout::AlertStatus; on a cluster, on the primary of the
// hash's own slot).
#ifndef ALLIANCE_STORE_ALERT_WRITES_H_
#define ALLIANCE_STORE_ALERT_WRITES_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alliance/v1/common.pb.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

enum class AlertStatusChange { kAcknowledge, kResolve };

// Applies `change` to the alert `alert->alert_id()` of `tenant` on behalf of `actor`, now, and
// sets the resulting status, who and when on `alert` (store/alert_status_hash.h). Idempotent:
// acknowledging an acknowledged or resolved alert, or resolving a resolved one, changes nothing,
// and who and when stay those of the first call. Either ends a snooze (its fields stay). An
// error reply is the status (INTERNAL), as is a reply that is not the hash.
absl::Status ChangeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor,
                               AlertStatusChange change, alliance::v1::Alert* alert);

// Snoozes the alert `alert->alert_id()` of `tenant` on behalf of `actor`, now, until `until`,
// for `reason` (free text, kept only in the hash), replacing any snooze before; sets the
// result on `alert` as ChangeAlertStatus does. FAILED_PRECONDITION, nothing written, for a
// resolved alert (decided inside the script, so a resolve racing with it is never undone). The
// caller checks `until` and `reason`.
absl::Status SnoozeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor, absl::Time until,
                               std::string_view reason, alliance::v1::Alert* alert);

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_WRITES_H_
