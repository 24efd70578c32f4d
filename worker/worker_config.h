// Configuration of the analytics worker, built from its command-line flags (each with an
// ALLIANCE_<NAME> environment equivalent).
#ifndef ALLIANCE_WORKER_WORKER_CONFIG_H_
#define ALLIANCE_WORKER_WORKER_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace alliance::worker {

struct WorkerConfig {
  // Consumer name in the group and value of the partition leases; unique per process.
  std::string worker_id;
  // Entries read per partition per XREADGROUP.
  int batch_size = 256;
  // How long an idle read blocks waiting for new entries.
  absl::Duration block = absl::Milliseconds(100);
  // On a Redis Cluster, where no single blocking read can wait on every owned stream: how long
  // an idle worker waits before its next round of fenced reads (at most `block`).
  absl::Duration cluster_poll = absl::Milliseconds(20);
  // Partition lease time-to-live; renewed every lease/3. Bounds takeover after a crash.
  absl::Duration lease = absl::Seconds(5);
  // Minimum idle time of another consumer's pending entry before an owned partition's
  // periodic claim takes it (claims at lease acquisition take everything: the lease fences).
  absl::Duration claim_idle = absl::Seconds(1);
  // Failed processing attempts (deliveries) before an entry is parked as a dead letter.
  int max_attempts = 5;
  // Retention: acknowledged feedback entries are kept this long...
  absl::Duration retain = absl::Hours(24);
  // ...unless the stream is longer than this many entries (0: no length limit). Unprocessed
  // entries are never trimmed; a backlog above this raises the backlog alarm gauge.
  int64_t max_stream_length = 1000000;
  // Retention of derived data (0: none): dyad states expire this long after their last
  // write; alert and dead-letter entries older than this are trimmed.
  absl::Duration data_retention = absl::ZeroDuration();
  // How often retention trimming and the lag/pending metrics run.
  absl::Duration maintenance_interval = absl::Seconds(1);
  // Consumers of other workers (restarted pods get new ids) that hold no pending entry and were
  // idle this long are removed from the group of an owned partition; 0: never.
  absl::Duration consumer_retire = absl::Minutes(10);
  // Dyad states kept in memory between batches (least recently used out first); 0: none.
  int64_t dyad_cache_entries = 10000;
  // Health service name "" follows Redis; "liveness" is always SERVING.
  int health_port = 0;
  int metrics_port = 0;
  // Bind address of the health port (and of metrics unless --metrics_host overrides it).
  std::string listen_host = "127.0.0.1";
  std::string metrics_host = "127.0.0.1";
  // Bounds of the reconnect backoff.
  absl::Duration backoff_min = absl::Milliseconds(50);
  absl::Duration backoff_max = absl::Seconds(2);
  // Test-only: read `now` (Unix ms) from this file instead of the system clock (clock.h).
  std::string test_now_file;
};

// Builds the configuration from the worker's flags, validating ranges.
absl::StatusOr<WorkerConfig> WorkerConfigFromFlags();

// "<hostname>-<pid>": the default worker id.
std::string DefaultWorkerId();

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_WORKER_CONFIG_H_
