// Registration of the worker's metrics.
#include "worker/worker_metrics.h"

#include <string>

#include "worker/record_convert.h"

namespace alliance::worker {

WorkerMetrics::WorkerMetrics(MetricsRegistry* r, int partitions) {
  for (int p = 0; p < partitions; ++p) {
    std::vector<std::pair<std::string, std::string>> l = {{"partition", std::to_string(p)}};
    partition.push_back({
        r->GetGauge("alliance_worker_partition_owned", "1 while this worker owns the partition", l),
        r->GetGauge("alliance_worker_lag",
                    "Feedback entries not yet delivered to the group (NaN while Redis cannot "
                    "tell, after entries were deleted)",
                    l),
        r->GetGauge("alliance_worker_pending", "Feedback entries delivered but not acknowledged",
                    l),
        r->GetGauge("alliance_worker_stream_length", "Feedback stream length", l),
        r->GetGauge("alliance_worker_dead_letter_length", "Entries in the dead-letter stream", l),
        r->GetGauge("alliance_worker_backlog_alarm",
                    "1 when lag + pending exceeds --max_stream_length", l),
        r->GetCounter("alliance_worker_dead_letters_total",
                      "Feedback entries parked in the dead-letter stream", l),
        r->GetCounter("alliance_worker_trims_total", "Retention trims of the feedback stream", l),
    });
  }
  ratings_applied = r->GetCounter("alliance_worker_ratings_applied_total",
                                  "Ratings applied to dyad state (new, not duplicates)");
  duplicates_skipped = r->GetCounter("alliance_worker_duplicates_total",
                                     "Redelivered or replayed ratings that changed nothing");
  entries_acked = r->GetCounter("alliance_worker_entries_acked_total",
                                "Feedback entries acknowledged after their effect was written");
  for (size_t kind = 0; kind < alerts_emitted.size(); ++kind) {
    alerts_emitted[kind] = r->GetCounter(
        "alliance_worker_alerts_emitted_total", "Alert events appended to streams, by kind.",
        {{"kind", std::string(AlertKindName(static_cast<alliance::v1::AlertKind>(kind)))}});
  }
  processing_failures = r->GetCounter("alliance_worker_processing_failures_total",
                                      "Deliveries of entries that could not be processed");
  version_conflicts = r->GetCounter("alliance_worker_version_conflicts_total",
                                    "Dyad writes refused because the record changed meanwhile");
  replicas_unconfirmed =
      r->GetCounter("alliance_worker_replicas_unconfirmed_total",
                    "Writes that WAIT did not confirm on --redis_wait_replicas replicas (re-read)");
  leases_lost = r->GetCounter("alliance_worker_leases_lost_total", "Partition leases lost");
  leases_acquired =
      r->GetCounter("alliance_worker_leases_acquired_total", "Partition leases acquired");
  consumers_retired = r->GetCounter(
      "alliance_worker_consumers_retired_total",
      "Idle consumers of other workers, holding no pending entry, removed from the group");
  redis_reconnects =
      r->GetCounter("alliance_worker_redis_reconnects_total", "Successful Redis reconnects");
  redis_errors = r->GetCounter("alliance_worker_redis_errors_total", "Failed Redis round trips");
  dyad_cache_hits = r->GetCounter("alliance_worker_dyad_cache_hits_total",
                                  "Dyads of a batch whose state was in memory (no record read)");
  dyad_cache_misses = r->GetCounter("alliance_worker_dyad_cache_misses_total",
                                    "Dyads of a batch whose record was read and parsed");
  dyad_cache_entries =
      r->GetGauge("alliance_worker_dyad_cache_entries", "Dyad states kept in memory");
  partitions_owned = r->GetGauge("alliance_worker_partitions_owned", "Partitions owned");
  live_workers = r->GetGauge("alliance_worker_live_workers", "Workers alive in the group");
  redis_up = r->GetGauge("alliance_worker_redis_up", "1 while Redis answers");
  batch_seconds = r->GetHistogram("alliance_worker_batch_seconds",
                                  "Time to process one batch (read to acknowledge)",
                                  MetricsRegistry::LatencyBuckets());
  batch_size = r->GetHistogram("alliance_worker_batch_entries", "Entries per processed batch",
                               {1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000});
}

}  // namespace alliance::worker
