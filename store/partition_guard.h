// The partition count guard. Every dyad's ratings go to the partition its ids hash to, modulo
// the partition count, and workers and watch cursors are per partition: processes that
// disagree on the count would split one dyad's ratings over two streams and apply them out of
// order. So the count a deployment was created with is recorded in Redis (the first process to
// start records it), and a process configured with another count refuses to work there.
// Changing the count of a deployment is a migration (docs/scaling.md), not a flag change.
#ifndef ALLIANCE_STORE_PARTITION_GUARD_H_
#define ALLIANCE_STORE_PARTITION_GUARD_H_

#include "absl/status/status.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "store/store_flags.h"

namespace alliance {

// Records the layout's partition count when none is recorded yet (SET NX), then compares.
// FAILED_PRECONDITION naming both counts when the recorded one differs; INTERNAL when what is
// recorded is not a count; UNAVAILABLE on transport errors.
absl::Status CheckPartitionCount(RedisConnection& redis, const KeyLayout& layout);
// The same on a Redis Cluster (the key lives in one slot).
absl::Status CheckPartitionCount(ClusterClient& cluster, const KeyLayout& layout);

// The start-up check of a deployable: connects once (bounded by the endpoint's timeouts) and
// runs CheckPartitionCount. A Redis that cannot be reached is not an error here (services
// start before Redis and wait for it; every later connection is checked again); a mismatch is.
absl::Status CheckPartitionCountAtStart(const RedisTarget& target, const KeyLayout& layout);

}  // namespace alliance

#endif  // ALLIANCE_STORE_PARTITION_GUARD_H_
