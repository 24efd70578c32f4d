// The worker's Prometheus metrics. Per-partition gauges are reported by the partition's
// current owner (0 elsewhere), so summing over workers gives the cluster-wide value.
#ifndef ALLIANCE_WORKER_WORKER_METRICS_H_
#define ALLIANCE_WORKER_WORKER_METRICS_H_

#include <array>
#include <vector>

#include "common/metrics.h"

namespace alliance::worker {

struct PartitionMetrics {
  Gauge* owned;               // 1 while this worker holds the lease
  Gauge* lag;                 // entries not yet delivered to the group
  Gauge* pending;             // delivered, not yet acknowledged
  Gauge* stream_length;       // feedback stream length after trimming
  Gauge* dead_letter_length;  // entries in the dead-letter stream
  Gauge* backlog_alarm;       // 1 when lag + pending exceeds --max_stream_length
  Counter* dead_letters;      // entries parked by this worker
  Counter* trimmed;           // XTRIM calls that removed entries
};

struct WorkerMetrics {
  WorkerMetrics(MetricsRegistry* registry, int partitions);

  std::vector<PartitionMetrics> partition;
  Counter* ratings_applied;
  Counter* duplicates_skipped;
  Counter* entries_acked;
  // Alert events appended to the streams, by kind (index: alliance.v1.AlertKind; label `kind`
  // as the alert stream spells it, "rupture", "repaired", "unrepaired", "disengagement",
  // "reengaged").
  std::array<Counter*, 6> alerts_emitted{};
  Counter* AlertsEmitted(int kind) {
    return alerts_emitted[kind >= 0 && kind < 6 ? static_cast<size_t>(kind) : 0];
  }
  Counter* processing_failures;
  Counter* version_conflicts;
  Counter* replicas_unconfirmed;  // apply exchanges whose WAIT confirmed too few replicas
  Counter* leases_lost;
  Counter* leases_acquired;
  Counter* consumers_retired;
  Counter* redis_reconnects;
  Counter* redis_errors;
  Counter* dyad_cache_hits;
  Counter* dyad_cache_misses;
  Gauge* dyad_cache_entries;
  Gauge* partitions_owned;
  Gauge* live_workers;
  Gauge* redis_up;
  Histogram* batch_seconds;
  Histogram* batch_size;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_WORKER_METRICS_H_
