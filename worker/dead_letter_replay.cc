// Dead-letter replay (see dead_letter_replay.h): the store's replay on the worker's connection.
#include "worker/dead_letter_replay.h"

#include "store/dead_letters.h"

namespace alliance::worker {

absl::StatusOr<int64_t> ReplayDeadLetters(WorkerRedis& redis, const KeyLayout& layout,
                                          int partition) {
  return alliance::ReplayDeadLetters(redis.executor(), redis.scripts(), layout, partition);
}

}  // namespace alliance::worker
