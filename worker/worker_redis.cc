// The worker's Redis (see worker_redis.h).
#include "worker/worker_redis.h"

#include "store/partition_guard.h"

namespace alliance::worker {

absl::StatusOr<std::unique_ptr<WorkerRedis>> WorkerRedis::Connect(const RedisTarget& target,
                                                                  const KeyLayout& layout,
                                                                  absl::Duration extra_read_time) {
  std::unique_ptr<WorkerRedis> redis(new WorkerRedis());
  if (target.cluster) {
    ClusterOptions options = *target.cluster;
    // A command that may have run must not run again behind the worker's back: a fenced read
    // sent twice delivers twice, and the first delivery would sit unread in this worker's
    // pending list. Transport errors end the call; the worker reconnects and re-reads what is
    // pending, as it does with a single Redis.
    options.resend_after_transport_error = false;
    absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
    if (!client.ok()) return client.status();
    redis->cluster_ = *std::move(client);
    redis->executor_ = std::make_unique<ClusterExecutor>(*redis->cluster_);
    if (absl::Status s = CheckPartitionCount(*redis->cluster_, layout); !s.ok()) return s;
    if (absl::Status s = redis->scripts_.Load(*redis->cluster_); !s.ok()) return s;
    return redis;
  }
  RedisEndpoint endpoint = target.single;
  endpoint.command_timeout += extra_read_time;
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(endpoint);
  if (!conn.ok()) return conn.status();
  redis->single_ = *std::move(conn);
  redis->executor_ = std::make_unique<ConnectionExecutor>(*redis->single_);
  if (absl::Status s = CheckPartitionCount(*redis->single_, layout); !s.ok()) return s;
  if (absl::Status s = redis->scripts_.Load(*redis->single_); !s.ok()) return s;
  return redis;
}

bool WorkerRedis::unusable() const {
  return single_ != nullptr && (single_->broken() || single_->pending_replies() != 0);
}

}  // namespace alliance::worker
