// Where the worker's Redis commands go: one connection to a single Redis, or a Redis Cluster
// client (store/cluster_client.h). Callers hand over commands grouped by a key of the slot they
// touch (any key of a partition: every partition key carries the partition's hash tag), so
// one group never spans slots. With a single Redis every group of a Run goes out in one
// pipeline (one round trip, as the worker always did); on a cluster each group is one
// exchange with the primary of its slot, which follows redirections and reloads the worker's
// scripts after NOSCRIPT (a failed-over or restarted primary). See docs/worker.md.
#ifndef ALLIANCE_WORKER_REDIS_EXECUTOR_H_
#define ALLIANCE_WORKER_REDIS_EXECUTOR_H_

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
#include "store/store_flags.h"

namespace alliance::worker {

// Commands whose keys all share the slot of `key`.
struct CommandGroup {
  std::string key;
  std::vector<std::vector<std::string>> commands;
};

class RedisExecutor {
 public:
  // Connects to `target` (a cluster: reads its slot map; no data connection yet), checks the
  // partition count and loads the worker's scripts (on every primary of a cluster, and
  // registers them with the client for NOSCRIPT). Reads wait up to `extra_read_time` longer
  // than --redis_timeout_ms (the single Redis connection's blocking XREAD).
  static absl::StatusOr<std::unique_ptr<RedisExecutor>> Connect(const RedisTarget& target,
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

  // True when the executor must be replaced: a broken single connection, or one that still
  // owes replies.
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
  RedisExecutor() = default;

  std::unique_ptr<RedisConnection> single_;
  std::unique_ptr<ClusterClient> cluster_;
  ScriptShas scripts_;
  std::vector<std::string> shas_;  // by Script, in both modes
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_REDIS_EXECUTOR_H_
