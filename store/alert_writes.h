// The alert workflow transitions, acknowledge and resolve: each one atomic Lua script
// (store/lua/acknowledge_alert.lua, store/lua/resolve_alert.lua) on the alert's status hash
// (KeyLayout::AlertStatus; on a cluster, on the primary of the hash's own slot).
#ifndef ALLIANCE_STORE_ALERT_WRITES_H_
#define ALLIANCE_STORE_ALERT_WRITES_H_

#include <string_view>

#include "absl/status/status.h"
#include "alliance/v1/common.pb.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

enum class AlertStatusChange { kAcknowledge, kResolve };

// Applies `change` to the alert `alert->alert_id()` of `tenant` on behalf of `actor`, now, and
// sets the resulting status, who and when on `alert` (store/alert_status_hash.h). Idempotent:
// acknowledging an acknowledged or resolved alert, or resolving a resolved one, changes nothing,
// and who and when stay those of the first call. An error reply is the status (INTERNAL), as
// is a reply that is not the hash.
absl::Status ChangeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor,
                               AlertStatusChange change, alliance::v1::Alert* alert);

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_WRITES_H_
