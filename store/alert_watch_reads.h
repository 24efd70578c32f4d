// The live alert reader's reads (insights' WatchHub): where every partition's alert stream
// ends now, and the entries that arrived after given positions, each with a reading of Redis's
// clock taken right before, so that the reader knows up to which time it has seen everything
// (the time floor of watch cursors, docs/insights.md).
//
// On a single Redis one XREAD BLOCK covers every partition. On a Redis Cluster one XREAD over
// several slots would be CROSSSLOT and a blocking one would hold up the others, so the reads
// are non-blocking, one pipeline per primary (TIME, then an XREAD per partition it serves), and
// a partition answered with an error or on a primary that did not answer is read again in an
// exchange of its own slot, which follows redirections (RedisExecutor::Exchange).
#ifndef ALLIANCE_STORE_ALERT_WATCH_READS_H_
#define ALLIANCE_STORE_ALERT_WATCH_READS_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/alert_entry.h"
#include "store/keys.h"
#include "store/redis_executor.h"
#include "store/stream_id.h"

namespace alliance {

// A reading of Redis's clock (TIME) and when, on the local steady clock, it was asked for.
struct RedisClock {
  uint64_t ms = 0;
  std::chrono::steady_clock::time_point sent;
};

struct AlertStreamEnds {
  // The id of every partition's newest entry (0-0 for an empty or missing stream).
  Positions newest;
  // Taken before the reads of `newest` (on a cluster, the earliest of the partitions'
  // primaries): every entry below it was at or before `newest`.
  RedisClock clock;
};

// Redis's clock, then the newest entry of every partition (XREVRANGE ... COUNT 1): on a single
// Redis TIME and then one pipeline; on a cluster TIME and the read in one exchange per
// partition. An error reply is the status (INTERNAL), as is a malformed TIME or a reply that is
// not an array; a transport failure as the executor reports it.
absl::StatusOr<AlertStreamEnds> ReadAlertStreamEnds(RedisExecutor& redis, const KeyLayout& layout);

struct NewAlertsOptions {
  int count = 1000;                                // XREAD COUNT per stream
  absl::Duration block = absl::Milliseconds(500);  // XREAD BLOCK (single Redis only)
};

struct NewAlerts {
  // The entries after the positions, ordered by stream id, alert bodies parsed. Entries not
  // shaped like stream entries are left out (they cannot move positions anyway).
  std::vector<std::shared_ptr<const AlertEntry>> entries;
  // Set when every entry below this clock reading is at or before the positions moved by
  // `entries`: no stream had more than `count` new entries and every partition was read.
  std::optional<RedisClock> covered;
  // Cluster only: the first failure of the partitions that could not be read this time (their
  // positions stay; read them again). `entries` still holds what the others returned.
  absl::Status partial_failure;
};

// The entries after `after` (one position per partition). A single Redis: TIME and XREAD BLOCK
// over every stream in one pipeline (the connection's command timeout must outlast the
// block); the XREAD's error reply, or a reply that is not XREAD's shape, is the status. A
// cluster: no blocking; per-partition failures go to NewAlerts::partial_failure, so the call
// itself fails only as a whole (never, today, but callers must handle it).
absl::StatusOr<NewAlerts> ReadNewAlerts(RedisExecutor& redis, const KeyLayout& layout,
                                        const Positions& after, NewAlertsOptions options = {});

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_WATCH_READS_H_
