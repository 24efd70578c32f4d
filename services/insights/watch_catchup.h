// The read of one catch-up step, shared by the two kinds of alert watchers (WatchAlerts'
// WatchReactor and the dashboard's Server-Sent Events stream, dashboard_sse.h): a watcher that
// resumed from a cursor, or fell behind, reads the partitions' entries between its position and
// the target it must reach before it goes live, a few at a time so that its buffer never holds
// more than it has room for. What the watcher then takes from the entries (duplicates, its
// filter, how it queues them) is its own.
#ifndef ALLIANCE_SERVICES_INSIGHTS_WATCH_CATCHUP_H_
#define ALLIANCE_SERVICES_INSIGHTS_WATCH_CATCHUP_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "services/insights/alert_filter.h"
#include "store/alert_reads.h"
#include "store/keys.h"
#include "store/redis_executor.h"
#include "store/stream_id.h"

namespace alliance::insights {

// Reads, for every partition where `from` is behind `to`, the entries after `from` up to `to`,
// sharing `room` (how many alerts the watcher can still buffer; at least one each) between
// those partitions. Only the bodies of the entries whose header matches `filter` are parsed:
// other tenants' alerts are never decoded. Errors as ReadAlertRanges.
absl::StatusOr<AlertRangeEntries> ReadCatchUpStep(RedisExecutor& redis, const KeyLayout& layout,
                                                  const Positions& from, const Positions& to,
                                                  size_t room, const AlertFilter& filter);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_WATCH_CATCHUP_H_
