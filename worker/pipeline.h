// Pipelining in a sliding window: hiredis keeps the whole output buffer in one growing string,
// so one huge pipeline costs quadratic copying. A bounded number of commands in flight keeps
// the buffer small while still avoiding a round trip per command.
#ifndef ALLIANCE_WORKER_PIPELINE_H_
#define ALLIANCE_WORKER_PIPELINE_H_

#include <cstddef>
#include <functional>

#include "absl/status/status.h"
#include "store/redis_connection.h"

namespace alliance::worker {

// Queues commands 0..count-1 with `append(i)` and hands each reply to `on_reply(i, reply)`,
// with at most `window` commands in flight. Stops at the first transport error or error
// status returned by `on_reply` (replies still in flight are drained first).
absl::Status RunPipelined(RedisConnection& redis, size_t count, size_t window,
                          const std::function<void(size_t)>& append,
                          const std::function<absl::Status(size_t, const redisReply&)>& on_reply);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_PIPELINE_H_
