// The worker's Redis connection: it owns the connection to a single Redis or the Redis Cluster
// client (store/cluster_client.h), checks the partition count and loads the worker's scripts at
// connection, and hands the store's operations (store/partition_lease.h, feedback_reads.h,
// fenced_writes.h, stream_maintenance.h, dead_letters.h) an executor over it
// (store/redis_executor.h). With a single Redis the operations pipeline on the one connection
// (one round trip, as the worker always did); on a cluster each slot is one exchange with its
// primary, which follows redirections and reloads the worker's scripts after NOSCRIPT (a
// failed-over or restarted primary). This file owns connections only; it reads no reply of its
// own. See docs/worker.md.
#ifndef ALLIANCE_WORKER_WORKER_REDIS_H_
#define ALLIANCE_WORKER_WORKER_REDIS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"
#include "store/store_flags.h"

namespace alliance::worker {

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
  // The scripts as loaded (the same SHA1s on every node of a cluster).
  const ScriptShas& scripts() const { return scripts_; }
  // Runs the store's operations on the single Redis or the cluster.
  RedisExecutor& executor() { return *executor_; }

  // True when it must be replaced: a broken single connection, or one that still owes
  // replies. (The cluster client closes such connections itself.)
  bool unusable() const;

 private:
  WorkerRedis() = default;

  std::unique_ptr<RedisConnection> single_;
  std::unique_ptr<ClusterClient> cluster_;
  std::unique_ptr<RedisExecutor> executor_;  // over single_ or cluster_
  ScriptShas scripts_;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_WORKER_REDIS_H_
