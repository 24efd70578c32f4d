// The worker's Redis: it owns the connection to a single Redis or the Redis Cluster client
// (store/cluster_client.h), checks the partition count and loads the worker's scripts at
// connection, and runs commands through store/redis_executor.h. Callers hand over commands
// grouped by a key of the slot they touch (any key of a partition: every partition key carries
// the partition's hash tag), so one group never spans slots. With a single Redis every group
// of a Run goes out in one pipeline (one round trip, as the worker always did); on a cluster
// each slot is one exchange with its primary, which follows redirections and reloads the
// worker's scripts after NOSCRIPT (a failed-over or restarted primary). See docs/worker.md.
#ifndef ALLIANCE_WORKER_WORKER_REDIS_H_
#define ALLIANCE_WORKER_WORKER_REDIS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"
#include "store/store_flags.h"

namespace alliance::worker {

// Commands whose keys all share the slot of `key`.
struct CommandGroup {
  std::string key;
  std::vector<std::vector<std::string>> commands;
};

class WorkerRedis {
 public:
  // Connects to `target` (a cluster: reads its slot map; no data connection yet), checks the
  // partition count and loads the worker's scripts (on every primary of a cluster, and
  // registers them with the client for NOSCRIPT). Reads wait up to `extra_read_time` longer
  // than --redis_timeout_ms (the single Redis connection's blocking XREAD).
  static absl::StatusOr<std::unique_ptr<WorkerRedis>> Connect(const RedisTarget& target,
                                                              const KeyLayout& layout,
                                                              absl::Duration extra_read_time);

  bool cluster() const { return cluster_ != nullptr; }
  // The single Redis connection (null in cluster mode).
  RedisConnection* connection() { return single_.get(); }
  // The cluster client (null with a single Redis).
  ClusterClient* cluster_client() { return cluster_.get(); }
  // The scripts as loaded on the single Redis, for callers that pipeline EVALSHA on
  // connection() themselves (empty in cluster mode).
  const ScriptShas& scripts() const { return scripts_; }

  // True when it must be replaced: a broken single connection, or one that still owes
  // replies. (The cluster client closes such connections itself.)
  bool unusable() const;

  // One reply per command of each group, in order; every reply is read, error replies
  // included. Fails (and the caller reconnects) on transport errors or when a cluster call
  // ends UNAVAILABLE.
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> Run(
      const std::vector<CommandGroup>& groups);
  // One command on the slot of `key`.
  absl::StatusOr<RedisReplyPtr> Command(std::string_view key, const std::vector<std::string>& args);

  // EVALSHA of `script` as a command for a group.
  std::vector<std::string> Eval(Script script, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) const;

 private:
  WorkerRedis() = default;

  std::unique_ptr<RedisConnection> single_;
  std::unique_ptr<ClusterClient> cluster_;
  std::unique_ptr<RedisExecutor> executor_;  // over single_ or cluster_
  ScriptShas scripts_;
  std::vector<std::string> shas_;  // by Script, in both modes
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_WORKER_REDIS_H_
