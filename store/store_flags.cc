// Definitions of the Redis and partition flags and the configuration built from them.
#include "store/store_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/process.h"

ABSL_FLAG(std::string, redis_host, "127.0.0.1", "Redis host name or address.");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (AUTH); empty for none.");
ABSL_FLAG(int32_t, redis_timeout_ms, 2000, "Timeout of Redis connects and commands, in ms.");
ABSL_FLAG(int32_t, partitions, 8,
          "Number of feedback partitions (streams). Intake, worker and insights must agree.");
ABSL_FLAG(std::string, redis_cluster_nodes, "",
          "Redis Cluster seed nodes, host:port[,host:port...]; empty: a single Redis at "
          "--redis_host:--redis_port.");
ABSL_FLAG(int32_t, redis_wait_replicas, -1,
          "Acknowledge a submission only after WAIT confirms it reached this many replicas "
          "(UNAVAILABLE after --redis_wait_timeout_ms; the client retries with its idempotency "
          "id). -1: 1 in cluster mode, 0 (no WAIT) with a single Redis.");
ABSL_FLAG(int32_t, redis_wait_timeout_ms, 1000, "Longest WAIT for replicas, in ms.");

namespace alliance {

absl::StatusOr<RedisEndpoint> RedisEndpointFromFlags() {
  RedisEndpoint endpoint;
  endpoint.host = absl::GetFlag(FLAGS_redis_host);
  endpoint.port = absl::GetFlag(FLAGS_redis_port);
  int timeout_ms = absl::GetFlag(FLAGS_redis_timeout_ms);
  if (endpoint.port <= 0 || endpoint.port > 65535) {
    return absl::InvalidArgumentError("--redis_port must be 1..65535");
  }
  if (timeout_ms <= 0) return absl::InvalidArgumentError("--redis_timeout_ms must be positive");
  endpoint.connect_timeout = absl::Milliseconds(timeout_ms);
  endpoint.command_timeout = absl::Milliseconds(timeout_ms);
  std::string password_file = absl::GetFlag(FLAGS_redis_password_file);
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password = ReadFileToString(password_file);
    if (!password.ok()) return password.status();
    endpoint.password = std::string(absl::StripTrailingAsciiWhitespace(*password));
  }
  return endpoint;
}

absl::StatusOr<KeyLayout> KeyLayoutFromFlags() {
  int partitions = absl::GetFlag(FLAGS_partitions);
  if (partitions < 1 || partitions > 1024) {
    return absl::InvalidArgumentError("--partitions must be 1..1024");
  }
  return KeyLayout(partitions);
}

absl::StatusOr<RedisTarget> RedisTargetFromFlags() {
  RedisTarget target;
  absl::StatusOr<RedisEndpoint> single = RedisEndpointFromFlags();
  if (!single.ok()) return single.status();
  target.single = *single;
  const std::string nodes = absl::GetFlag(FLAGS_redis_cluster_nodes);
  if (!nodes.empty()) {
    ClusterOptions cluster;
    for (absl::string_view seed : absl::StrSplit(nodes, ',', absl::SkipWhitespace())) {
      seed = absl::StripAsciiWhitespace(seed);
      size_t colon = seed.rfind(':');
      int port = 0;
      if (colon == absl::string_view::npos || colon == 0 ||
          !absl::SimpleAtoi(seed.substr(colon + 1), &port) || port < 1 || port > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("--redis_cluster_nodes: '", seed, "' is not host:port"));
      }
      cluster.seeds.emplace_back(seed);
    }
    if (cluster.seeds.empty()) {
      return absl::InvalidArgumentError("--redis_cluster_nodes: no seed node");
    }
    cluster.password = single->password;
    cluster.connect_timeout = single->connect_timeout;
    cluster.command_timeout = single->command_timeout;
    target.cluster = std::move(cluster);
  }
  const int wait = absl::GetFlag(FLAGS_redis_wait_replicas);
  if (wait < -1 || wait > 16) {
    return absl::InvalidArgumentError("--redis_wait_replicas must be -1..16");
  }
  target.wait_replicas = wait == -1 ? (target.cluster ? 1 : 0) : wait;
  const int wait_ms = absl::GetFlag(FLAGS_redis_wait_timeout_ms);
  if (wait_ms < 1 || wait_ms > 60'000) {
    return absl::InvalidArgumentError("--redis_wait_timeout_ms must be 1..60000");
  }
  target.wait_timeout = absl::Milliseconds(wait_ms);
  return target;
}

}  // namespace alliance
