// Replays dead letters: moves every entry present in the dead-letter streams when it starts
// (not those a running worker parks again meanwhile) back to the end of its
// partition's feedback stream (same tenant, accepted_id and entry), one atomic script per
// entry, so a replay that is interrupted and rerun never duplicates or loses an entry. Ratings
// already applied are deduplicated by the worker. The Redis side is store/dead_letters.h.
#ifndef ALLIANCE_WORKER_DEAD_LETTER_REPLAY_H_
#define ALLIANCE_WORKER_DEAD_LETTER_REPLAY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "store/keys.h"
#include "worker/worker_redis.h"

namespace alliance::worker {

// partition < 0: all partitions. Returns the number of entries moved.
absl::StatusOr<int64_t> ReplayDeadLetters(WorkerRedis& redis, const KeyLayout& layout,
                                          int partition);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_DEAD_LETTER_REPLAY_H_
