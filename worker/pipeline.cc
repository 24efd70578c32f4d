// Windowed pipelining (see pipeline.h).
#include "worker/pipeline.h"

#include <algorithm>

namespace alliance::worker {

absl::Status RunPipelined(RedisConnection& redis, size_t count, size_t window,
                          const std::function<void(size_t)>& append,
                          const std::function<absl::Status(size_t, const redisReply&)>& on_reply) {
  absl::Status first_error = absl::OkStatus();
  for (size_t begin = 0; begin < count; begin += window) {
    size_t end = std::min(count, begin + window);
    for (size_t i = begin; i < end; ++i) append(i);
    for (size_t i = begin; i < end; ++i) {
      absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
      if (!reply.ok()) return reply.status();
      if (first_error.ok()) first_error = on_reply(i, **reply);
    }
    if (!first_error.ok()) return first_error;
  }
  return absl::OkStatus();
}

}  // namespace alliance::worker
