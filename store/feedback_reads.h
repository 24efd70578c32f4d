// The worker group's reads of the feedback streams (consumer group kWorkerGroup): creating the
// group, fenced reads of a partition's new or pending entries, claiming entries a gone consumer
// left pending, the delivery count of pending entries, and the blocking wait for new entries.
// Every read that delivers checks the partition's lease atomically with the delivery, in one of
// two ways:
// - ReadFencedByScript: store/lua/fenced_read.lua per partition, all in one pipeline (one
//   exchange per slot on a cluster); the script converts each entry to Lua values and back,
//   cheap for a few entries (live traffic);
// - ReadFencedByTransaction (single Redis only): per partition WATCH and GET the lease; if it
//   names the worker, MULTI, XREADGROUP, the erasure counter, the stream's last id, EXEC.
//   Another worker taking the lease in between touches the watched key, so EXEC delivers
//   nothing. The transactions are chained in one pipeline (each EXEC goes out with the next
//   partition's WATCH and GET): N + 1 round trips, without the script's per-entry conversion
//   (a backlog). A cluster cannot do this: WATCH and EXEC would have to reach one node over
//   one connection across two exchanges, which a redirection in between breaks.
// Replies are decoded into StreamEntry values (store/stream_entry.h); an error reply or a
// reply of another shape is an error status, and every reply asked for is read first.
#ifndef ALLIANCE_STORE_FEEDBACK_READS_H_
#define ALLIANCE_STORE_FEEDBACK_READS_H_

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
#include "store/redis_connection.h"
#include "store/redis_executor.h"
#include "store/stream_entry.h"

namespace alliance {

// XGROUP CREATE ... MKSTREAM of the worker group on every partition's feedback stream; a group
// that exists already is fine.
absl::Status CreateWorkerGroups(RedisExecutor& redis, const KeyLayout& layout);

// One partition to read: its new entries (from ">") or this consumer's pending entries after
// a pending-list cursor ("0" for the start).
struct FeedbackReadRequest {
  int partition = 0;
  std::string from;
};

struct FencedFeedbackRead {
  enum class Outcome {
    kRead,         // entries (possibly none) and erasures are set
    kLeaseLost,    // the lease names another worker: nothing was delivered
    kInterrupted,  // (transactions) the lease was touched meanwhile: nothing was delivered
  };
  Outcome outcome = Outcome::kRead;
  std::vector<StreamEntry> entries;
  // The partition's erasure counter when the entries were read ("0" when unset).
  std::string erasures = "0";
  // A read of new entries that found none: the stream's last id ("0-0" for an empty stream),
  // where the blocking wait starts. Empty otherwise.
  std::string last_id;
};

// The worker, its group and how many entries one read delivers per partition.
struct FeedbackReader {
  std::string_view worker_id;
  int64_t count = 0;
};

// One result per request, in order.
absl::StatusOr<std::vector<FencedFeedbackRead>> ReadFencedByScript(
    RedisExecutor& redis, const ScriptShas& scripts, const KeyLayout& layout,
    const FeedbackReader& reader, std::span<const FeedbackReadRequest> requests);
absl::StatusOr<std::vector<FencedFeedbackRead>> ReadFencedByTransaction(
    RedisConnection& redis, const KeyLayout& layout, const FeedbackReader& reader,
    std::span<const FeedbackReadRequest> requests);

struct ClaimResult {
  bool lease_lost = false;
  bool claimed_any = false;
};
// Claims every entry of the partition pending for at least `min_idle` with another consumer
// (store/lua/fenced_claim.lua, pages of 1,000, at most 10,000 pages).
absl::StatusOr<ClaimResult> ClaimPendingEntries(RedisExecutor& redis, const ScriptShas& scripts,
                                                const KeyLayout& layout, std::string_view worker_id,
                                                int partition, absl::Duration min_idle);

// A pending entry of a partition's feedback stream.
struct PendingEntryRef {
  int partition = 0;
  std::string_view id;
};
// How many times each entry was delivered (XPENDING of its id); 0 when it is no longer pending
// (acknowledged meanwhile). Windowed pipelines on a single Redis (store/windowed_pipeline.h),
// one exchange per slot on a cluster.
absl::StatusOr<std::vector<int64_t>> DeliveryCounts(RedisExecutor& redis, const KeyLayout& layout,
                                                    std::span<const PendingEntryRef> entries);

// A partition's stream and the last id seen there.
struct StreamPosition {
  int partition = 0;
  std::string_view last_id;
};
// Single Redis: blocks up to `block` until one of the streams has an entry after its position
// (XREAD BLOCK). Returns once something arrived or the time passed; reads nothing for anyone.
absl::Status WaitForNewEntries(RedisConnection& redis, const KeyLayout& layout,
                               std::span<const StreamPosition> positions, absl::Duration block);

}  // namespace alliance

#endif  // ALLIANCE_STORE_FEEDBACK_READS_H_
