// Flags of the analytics worker and their validation.
#include "worker/worker_config.h"

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/flags.h"

ABSL_FLAG(std::string, worker_id, "",
          "Consumer name and lease owner id; unique per process. Default: <hostname>-<pid>.");
ABSL_FLAG(int32_t, batch_size, 256, "Feedback entries read per partition per round (1..10000).");
ABSL_FLAG(int32_t, block_ms, 100, "How long an idle read waits for new entries, in ms.");
ABSL_FLAG(int32_t, cluster_poll_ms, 20,
          "On a Redis Cluster: how long an idle worker waits before reading its partitions again, "
          "in ms (at most --block_ms).");
ABSL_FLAG(int32_t, lease_ms, 5000,
          "Partition lease time-to-live in ms (renewed every third of it). A crashed worker's "
          "partitions are taken over within about lease_ms * 4/3.");
ABSL_FLAG(int32_t, claim_idle_ms, 1000,
          "Idle time after which a pending entry of another consumer in an owned partition is "
          "claimed by the periodic claim (claims at lease acquisition take all of them).");
ABSL_FLAG(int32_t, max_attempts, 5,
          "Deliveries of an entry that fails processing before it goes to the dead-letter stream.");
ABSL_FLAG(int32_t, retain_ms, 24 * 3600 * 1000,
          "Acknowledged feedback entries younger than this are kept (unless the stream is longer "
          "than --max_stream_length). Unprocessed entries are never trimmed.");
ABSL_FLAG(int64_t, max_stream_length, 1000000,
          "Feedback stream length above which acknowledged entries are trimmed regardless of "
          "--retain_ms, and a backlog above which the backlog alarm is raised; 0: no limit.");
ABSL_FLAG(int64_t, data_retention_ms, 0,
          "Retention window of derived data, in ms: a dyad state (and its tenant's index) expires "
          "this long after its last write, and alert and dead-letter entries older than this "
          "are trimmed. 0: kept until erased.");
ABSL_FLAG(int32_t, maintenance_ms, 1000, "Interval of trimming and of lag/pending metrics, in ms.");
ABSL_FLAG(std::string, test_now_file, "",
          "For tests only: the worker's clock (detected_at, disengagement) reads the Unix time in "
          "ms from this file instead of the system clock. Never set in production.");
ABSL_FLAG(int64_t, consumer_retire_ms, 600000,
          "Remove a consumer of another worker from a partition's group once it holds no pending "
          "entry and was idle this long, in ms (a restarted worker gets a new id); 0: never.");
ABSL_FLAG(int64_t, dyad_cache_entries, 10000,
          "Dyad states (history, analysis, serialized record parts) kept in memory between "
          "batches, least recently used out first; a dyad in memory is applied without reading "
          "and re-analysing its record. 0: no cache.");
// One bind address for every listener, as in intake and insights; loopback unless asked, so a
// worker started by hand exposes nothing. Containers set 0.0.0.0 (deploy/kubernetes).
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Address the health and metrics ports bind to; 0.0.0.0 for every interface.");
ABSL_FLAG(std::string, metrics_host, "",
          "Address the /metrics endpoint binds; empty: --listen_host (kept for older "
          "deployments).");

namespace alliance::worker {

std::string DefaultWorkerId() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] ? host : "worker", "-", getpid());
}

absl::StatusOr<WorkerConfig> WorkerConfigFromFlags() {
  WorkerConfig c;
  c.worker_id = absl::GetFlag(FLAGS_worker_id);
  if (c.worker_id.empty()) c.worker_id = DefaultWorkerId();
  c.batch_size = absl::GetFlag(FLAGS_batch_size);
  if (c.batch_size < 1 || c.batch_size > 10000) {
    return absl::InvalidArgumentError("--batch_size must be 1..10000");
  }
  int block_ms = absl::GetFlag(FLAGS_block_ms);
  if (block_ms < 1 || block_ms > 10000) {
    return absl::InvalidArgumentError("--block_ms must be 1..10000");
  }
  c.block = absl::Milliseconds(block_ms);
  int poll_ms = absl::GetFlag(FLAGS_cluster_poll_ms);
  if (poll_ms < 1 || poll_ms > 10000) {
    return absl::InvalidArgumentError("--cluster_poll_ms must be 1..10000");
  }
  c.cluster_poll = absl::Milliseconds(poll_ms);
  int lease_ms = absl::GetFlag(FLAGS_lease_ms);
  if (lease_ms < 300) return absl::InvalidArgumentError("--lease_ms must be at least 300");
  if (lease_ms < 3 * block_ms) {
    return absl::InvalidArgumentError("--lease_ms must be at least 3 * --block_ms");
  }
  c.lease = absl::Milliseconds(lease_ms);
  int claim_idle_ms = absl::GetFlag(FLAGS_claim_idle_ms);
  if (claim_idle_ms < 0) return absl::InvalidArgumentError("--claim_idle_ms must be >= 0");
  c.claim_idle = absl::Milliseconds(claim_idle_ms);
  c.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  if (c.max_attempts < 1 || c.max_attempts > 1000) {
    return absl::InvalidArgumentError("--max_attempts must be 1..1000");
  }
  int retain_ms = absl::GetFlag(FLAGS_retain_ms);
  if (retain_ms < 0) return absl::InvalidArgumentError("--retain_ms must be >= 0");
  c.retain = absl::Milliseconds(retain_ms);
  c.max_stream_length = absl::GetFlag(FLAGS_max_stream_length);
  if (c.max_stream_length < 0) {
    return absl::InvalidArgumentError("--max_stream_length must be >= 0");
  }
  int64_t data_retention_ms = absl::GetFlag(FLAGS_data_retention_ms);
  if (data_retention_ms < 0) return absl::InvalidArgumentError("--data_retention_ms must be >= 0");
  c.data_retention = absl::Milliseconds(data_retention_ms);
  int maintenance_ms = absl::GetFlag(FLAGS_maintenance_ms);
  if (maintenance_ms < 10) return absl::InvalidArgumentError("--maintenance_ms must be >= 10");
  c.maintenance_interval = absl::Milliseconds(maintenance_ms);
  c.test_now_file = absl::GetFlag(FLAGS_test_now_file);
  int64_t consumer_retire_ms = absl::GetFlag(FLAGS_consumer_retire_ms);
  if (consumer_retire_ms < 0) {
    return absl::InvalidArgumentError("--consumer_retire_ms must be >= 0");
  }
  c.consumer_retire = absl::Milliseconds(consumer_retire_ms);
  c.dyad_cache_entries = absl::GetFlag(FLAGS_dyad_cache_entries);
  if (c.dyad_cache_entries < 0) {
    return absl::InvalidArgumentError("--dyad_cache_entries must be >= 0");
  }
  c.health_port = absl::GetFlag(FLAGS_health_port);
  c.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  if (c.health_port < 0 || c.health_port > 65535) {
    return absl::InvalidArgumentError("--health_port must be 0..65535");
  }
  if (c.metrics_port < 0 || c.metrics_port > 65535) {
    return absl::InvalidArgumentError("--metrics_port must be 0..65535");
  }
  c.listen_host = absl::GetFlag(FLAGS_listen_host);
  if (c.listen_host.empty()) return absl::InvalidArgumentError("--listen_host must not be empty");
  c.metrics_host = absl::GetFlag(FLAGS_metrics_host);
  if (c.metrics_host.empty()) c.metrics_host = c.listen_host;
  return c;
}

}  // namespace alliance::worker
