// Windowed pipelining (see pipeline.h).
#include "worker/pipeline.h"

#include <algorithm>

namespace alliance::worker {

absl::Status RunPipelined(RedisConnection& redis, size_t count, size_t window,
                          const std::function<void(size_t)>& append,
                          const std::function<absl::Status(size_t, const redisReply&)>& on_reply) {
  // A sliding window: after each reply the next command is queued, and hiredis sends it with
  // the next read, so Redis works on the commands in flight while the next one is built.
  absl::Status first_error = absl::OkStatus();
  size_t queued = std::min(count, std::max<size_t>(window, 1));
  for (size_t i = 0; i < queued; ++i) append(i);
  for (size_t i = 0; i < queued; ++i) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) return reply.status();
    if (first_error.ok()) first_error = on_reply(i, **reply);
    if (first_error.ok() && queued < count) append(queued++);
  }
  return first_error;
}

}  // namespace alliance::worker
