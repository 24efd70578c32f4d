// The flags that say where Alliance's Redis is and how its data is laid out (--redis_*,
// --partitions), shared by every deployable, and the configuration built from them. Each flag
// has an environment equivalent ALLIANCE_<NAME> (see common/process.h).
#ifndef ALLIANCE_STORE_STORE_FLAGS_H_
#define ALLIANCE_STORE_STORE_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/redis_connection.h"

ABSL_DECLARE_FLAG(std::string, redis_host);
ABSL_DECLARE_FLAG(int32_t, redis_port);
ABSL_DECLARE_FLAG(std::string, redis_password_file);
ABSL_DECLARE_FLAG(int32_t, redis_timeout_ms);
ABSL_DECLARE_FLAG(int32_t, partitions);
ABSL_DECLARE_FLAG(std::string, redis_cluster_nodes);
ABSL_DECLARE_FLAG(int32_t, redis_wait_replicas);
ABSL_DECLARE_FLAG(int32_t, redis_wait_timeout_ms);

namespace alliance {

// Redis endpoint from --redis_host, --redis_port, --redis_password_file, --redis_timeout_ms.
absl::StatusOr<RedisEndpoint> RedisEndpointFromFlags();

// Key layout from --partitions (1..1024).
absl::StatusOr<KeyLayout> KeyLayoutFromFlags();

// Where Alliance's Redis is: a single Redis (--redis_host, --redis_port) or, when
// --redis_cluster_nodes names seed nodes, a Redis Cluster (docs/scaling.md). Password and
// timeouts are the same flags in both modes.
struct RedisTarget {
  RedisEndpoint single;
  std::optional<ClusterOptions> cluster;  // set in cluster mode
  // Writes are acknowledged only once WAIT confirms they reached this many replicas
  // (--redis_wait_replicas; -1, the default, means 1 in cluster mode and 0 otherwise).
  int wait_replicas = 0;
  absl::Duration wait_timeout = absl::Milliseconds(1000);
};
absl::StatusOr<RedisTarget> RedisTargetFromFlags();

}  // namespace alliance

#endif  // ALLIANCE_STORE_STORE_FLAGS_H_
