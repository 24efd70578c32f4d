// The workflow status of alerts (KeyLayout::AlertStatus hashes): overlaying it on alerts read
// from the worker's records and streams, and the idempotent acknowledge / resolve transitions.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ALERT_STATUS_H_
#define ALLIANCE_SERVICES_INSIGHTS_ALERT_STATUS_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "alliance/v1/common.pb.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// Reads the status hashes of `alerts` (one pipelined round trip on a single Redis; on a
// cluster one per slot, the hashes being outside partitions) and sets status, who and when on
// each. Alerts without a hash are OPEN.
absl::Status OverlayStatuses(RedisExecutor& redis, const KeyLayout& layout, std::string_view tenant,
                             const std::vector<alliance::v1::Alert*>& alerts);

enum class Transition { kAcknowledge, kResolve };

// Applies the transition atomically (a Lua script) and overlays the resulting status on
// `alert` (on a cluster, on the primary of the hash's slot). Acknowledging an acknowledged or
// resolved alert, or resolving a resolved one, changes nothing: who and when stay those of the
// first call.
absl::Status ApplyTransition(RedisExecutor& redis, const KeyLayout& layout, std::string_view tenant,
                             std::string_view actor, Transition transition,
                             alliance::v1::Alert* alert);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_ALERT_STATUS_H_
