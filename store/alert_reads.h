// Reads of the partitions' alert streams (KeyLayout::AlertStream, entries decoded by
// store/alert_entry.h) for queries: every partition newest first, merged into one order by
// stream id (alert listing and lookup, resumable from a walk position that page tokens carry),
// and ranges of each partition oldest first (a watcher catching up from its cursor).
#ifndef ALLIANCE_STORE_ALERT_READS_H_
#define ALLIANCE_STORE_ALERT_READS_H_

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "store/alert_entry.h"
#include "store/keys.h"
#include "store/redis_executor.h"
#include "store/stream_id.h"

namespace alliance {

// Where a newest-first walk stands, per partition: nullopt when the partition is exhausted; a
// StreamId meaning "continue strictly before this id" (<max>-<max>: from the newest entry).
using AlertWalk = std::vector<std::optional<StreamId>>;

// Every partition's alert stream newest first, merged: the newest head across partitions is
// taken next, and a partition whose batch ran out is refilled (XREVRANGE, 256 entries) before
// anything else is taken, so the order is by stream id although partitions are read in
// batches. The refills of all partitions that need one go out together (one pipeline on a
// single Redis, one per primary on a cluster). Entries not shaped like stream entries are
// skipped. Not thread-safe; holds `redis` and `layout` by reference.
class NewestAlertsFirst {
 public:
  // Starts at `walk` (empty: the newest entry of every partition). With `parse_bodies` false
  // the entries come with their alert JSON unparsed (store/alert_entry.h, ParseAlertBody).
  NewestAlertsFirst(RedisExecutor& redis, const KeyLayout& layout, AlertWalk walk,
                    bool parse_bodies);

  // The next entry, or nullptr when every partition is exhausted. An error reply of a refill
  // is the status (INTERNAL), as is a reply that is not an array; the walk does not move then.
  absl::StatusOr<std::unique_ptr<AlertEntry>> Next();

  // The position after the entries returned so far (what a page token carries).
  const AlertWalk& walk() const { return walk_; }
  // True when every partition's walk has ended with a read that found nothing. A partition
  // whose last batch was short is not read again by this object, but its position stays in
  // walk() (so false does not promise more entries: a walk resumed from there may find none).
  bool exhausted() const;

 private:
  absl::Status Refill();

  RedisExecutor& redis_;
  const KeyLayout& layout_;
  AlertWalk walk_;
  const bool parse_;
  std::vector<std::deque<std::unique_ptr<AlertEntry>>> buffers_;
  std::vector<bool> exhausted_;
};

// One partition's entries after `after` up to and including `upto`.
struct AlertRange {
  int partition = 0;
  StreamId after;
  StreamId upto;
};

struct AlertRangeEntries {
  // The entries of every range, ordered by stream id across partitions, alert JSON unparsed
  // (ParseAlertBody); entries not shaped like stream entries are left out.
  std::vector<std::unique_ptr<AlertEntry>> entries;
  // Partitions whose range was read to its end (fewer than `count` entries came back).
  std::vector<int> finished;
};

// Reads at most `count` entries of each range (XRANGE, one pipeline on a single Redis, one per
// primary on a cluster). Every reply is read; an error reply is the status (INTERNAL), as is a
// reply that is not an array of entries.
absl::StatusOr<AlertRangeEntries> ReadAlertRanges(RedisExecutor& redis, const KeyLayout& layout,
                                                  std::span<const AlertRange> ranges, size_t count);

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_READS_H_
