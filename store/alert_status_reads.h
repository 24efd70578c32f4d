// Reading the workflow status of alerts (their status hashes, store/alert_status_hash.h) onto
// alerts read from the worker's dyad records and alert streams, which always say OPEN.
#ifndef ALLIANCE_STORE_ALERT_STATUS_READS_H_
#define ALLIANCE_STORE_ALERT_STATUS_READS_H_

#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "alliance/v1/common.pb.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

// Reads the status hashes of `alerts` of `tenant` (HGETALL each: one pipeline on a single
// Redis; on a cluster one per primary, the hashes being outside partitions) and sets status,
// who and when on each; an alert without a hash is OPEN. Every reply is read before any is
// judged; the first error reply, or a reply that is not a hash (INTERNAL), is the status, and
// then no alert has been changed.
absl::Status ReadAlertStatuses(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant,
                               std::span<alliance::v1::Alert* const> alerts);

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_STATUS_READS_H_
