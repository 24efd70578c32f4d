// Upkeep of a partition's streams by the worker that owns it: the figures behind its metrics
// and retention (XINFO GROUPS, XPENDING, XLEN), trimming, and the removal of idle consumers of
// other workers (store/lua/retire_consumers.lua, fenced by the lease). Each operation covers
// many partitions in one pipeline (one exchange per slot on a cluster); replies come back as
// typed values, and an error reply or a reply of another shape is an error status.
#ifndef ALLIANCE_STORE_STREAM_MAINTENANCE_H_
#define ALLIANCE_STORE_STREAM_MAINTENANCE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_executor.h"

namespace alliance {

struct FeedbackStreamStats {
  bool group_found = false;  // the worker group exists on the stream
  int64_t lag = -1;          // entries not yet delivered to the group; -1: Redis cannot tell
  int64_t pending = 0;       // delivered, not acknowledged
  std::string last_delivered = "0-0";
  std::string oldest_pending;  // the smallest pending id; empty when none or not reported
  int64_t length = 0;          // XLEN of the feedback stream
  int64_t dead_letter_length = 0;
};

// One per partition, in order.
absl::StatusOr<std::vector<FeedbackStreamStats>> ProbeFeedbackStreams(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const int> partitions);

struct StreamTrim {
  int partition = 0;
  std::string min_id;  // entries below it may go
};
// XTRIM MINID ~ of each partition's feedback stream ("~": Redis drops only whole internal
// nodes, cheap, and never an entry at or above the id). Per trim: whether anything went.
absl::StatusOr<std::vector<bool>> TrimFeedbackStreams(RedisExecutor& redis, const KeyLayout& layout,
                                                      std::span<const StreamTrim> trims);

// Exact XTRIM MINID `min_id` of the alert and dead-letter streams of `partitions` (nobody
// consumes them as a group, so age is their only bound).
absl::Status TrimDerivedStreams(RedisExecutor& redis, const KeyLayout& layout,
                                std::span<const int> partitions, std::string_view min_id);

// Removes, per partition, up to `limit` consumers other than `worker_id` idle for `min_idle`
// that hold nothing. Per partition: how many went, or -1 when the lease is no longer ours.
absl::StatusOr<std::vector<int64_t>> RetireIdleConsumers(RedisExecutor& redis,
                                                         const ScriptShas& scripts,
                                                         const KeyLayout& layout,
                                                         std::string_view worker_id,
                                                         absl::Duration min_idle, int limit,
                                                         std::span<const int> partitions);

}  // namespace alliance

#endif  // ALLIANCE_STORE_STREAM_MAINTENANCE_H_
