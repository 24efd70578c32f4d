// Many independent commands over either Redis mode, for the store's batched operations (dyad
// record loads, delivery counts): on a single Redis a sliding window of at most `window`
// commands in flight on the one connection (hiredis keeps its output in one growing buffer, so
// one huge pipeline would cost quadratic copying, while a round trip per command would cost
// latency); on a Redis Cluster one exchange per slot (RedisExecutor::Pipeline). Every reply of a
// command that was sent is read, error replies included, so the connection stays in step.
#ifndef ALLIANCE_STORE_WINDOWED_PIPELINE_H_
#define ALLIANCE_STORE_WINDOWED_PIPELINE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance {

// One command and a key that routes it (any key of the command: they share a slot).
struct KeyedCommand {
  std::string key;
  std::vector<std::string> args;
};

// Sends commands 0..count-1 (`command_of(i, out)` fills command i) and hands reply i to
// `on_reply(i, reply)` in order. After the first error status of `on_reply` no further command
// is sent and no further reply handed over (those in flight are read and dropped); that status
// is returned. A transport error (single Redis: the connection is broken then) or a failed
// cluster exchange is returned as it is.
absl::Status RunWindowed(RedisExecutor& redis, size_t count, size_t window,
                         absl::FunctionRef<void(size_t, KeyedCommand&)> command_of,
                         absl::FunctionRef<absl::Status(size_t, const redisReply&)> on_reply);

}  // namespace alliance

#endif  // ALLIANCE_STORE_WINDOWED_PIPELINE_H_
