// The analytics worker: owns partitions through leases, reads their feedback streams in
// batches through fenced scripts, applies each dyad's ratings with one atomic script (state,
// index, new alerts, acknowledgement), parks poison entries, trims, and survives Redis
// outages by reconnecting with backoff. Single-threaded: one Redis connection (or one Redis
// Cluster client, see worker_redis.h), one loop.
#ifndef ALLIANCE_WORKER_WORKER_H_
#define ALLIANCE_WORKER_WORKER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "store/backoff.h"
#include "store/feedback_entry.h"
#include "store/feedback_reads.h"
#include "store/keys.h"
#include "store/store_flags.h"
#include "worker/clock.h"
#include "worker/dyad_cache.h"
#include "worker/worker_config.h"
#include "worker/worker_metrics.h"
#include "worker/worker_redis.h"

namespace alliance::worker {

class Worker {
 public:
  Worker(WorkerConfig config, KeyLayout layout, RedisTarget target,
         const analytics::InstrumentRegistry* registry, analytics::RuleConfig rules,
         WorkerMetrics* metrics, std::function<void(bool)> on_redis_health);

  // Runs until `stop` becomes true, then finishes the batch in hand, releases its leases and
  // leaves the member set. Returns after that.
  void Run(const std::atomic<bool>& stop);

 private:
  struct Partition {
    bool owned = false;
    // Re-reading this worker's pending entries (after acquisition, a failure or a reconnect)
    // before any new entry, so a dyad's ratings are applied in stream order.
    bool pending_mode = false;
    std::string pel_cursor = "0";
    bool pass_had_failures = false;
    // Last stream id seen by an empty read: where the blocking wait starts.
    std::string last_id = "0-0";
    // The partition's erasure counter when the entries in hand were read (apply script).
    std::string erasures_at_read = "0";
  };
  using Batch = std::map<int, std::vector<StreamEntry>>;  // partition -> entries in order

  // worker.cc
  absl::Status Connect();
  absl::Status Step(const std::atomic<bool>& stop);
  absl::Status ReadBatch(Batch* batch, bool* idle);
  // Books what the read of partition `p` returned.
  void TakeRead(int p, bool pending, FencedFeedbackRead read, Batch* batch, bool* idle);
  absl::Status WaitForEntries();
  // Applies what WAIT answered (`replicas`; nullopt: nothing that speaks for these writes):
  // fewer replicas than --redis_wait_replicas confirmed the writes of partition `p`, so they may be
  // lost with a failover of its primary; its pending entries are read again and its states
  // reloaded. Returns whether they were confirmed.
  bool CheckWait(int p, std::optional<int64_t> replicas);
  void Shutdown();
  void LosePartition(int p, std::string_view why);
  std::vector<int> OwnedPartitions() const;

  // batch_apply.cc
  absl::Status ApplyBatch(const Batch& batch);

  // lease_round.cc
  absl::Status LeaseRound();
  absl::Status ClaimPending(int p, absl::Duration min_idle, bool* claimed_any);

  // maintenance.cc
  absl::Status Maintenance();
  // Trims alert and dead-letter entries older than --data_retention_ms (part of Maintenance).
  absl::Status TrimDerivedByAge(const std::vector<int>& owned, absl::Time now);
  // disengagement_timer.cc: raises the no-rating-during-rupture disengagement of the owned
  // partitions' due dyads (part of Maintenance, a bounded number per partition and round).
  absl::Status EvaluateDueDisengagements(const std::vector<int>& owned);
  // Removes other workers' idle consumers that hold nothing (part of Maintenance, at most once
  // a minute).
  absl::Status RetireIdleConsumers(const std::vector<int>& owned);

  WorkerConfig config_;
  KeyLayout layout_;
  RedisTarget target_;
  const analytics::InstrumentRegistry* registry_;
  analytics::RuleConfig rules_;
  WorkerMetrics* metrics_;
  std::function<void(bool)> on_redis_health_;
  std::unique_ptr<Clock> clock_;  // `now` of detected_at and disengagement (clock.h)

  std::unique_ptr<WorkerRedis> redis_;
  std::vector<Partition> partitions_;
  std::string members_key_;
  // States of dyads in owned partitions; see dyad_cache.h for why they can be trusted.
  DyadCache cache_;
  absl::Time next_lease_round_ = absl::InfinitePast();
  absl::Time next_maintenance_ = absl::InfinitePast();
  absl::Time next_consumer_sweep_ = absl::InfinitePast();
  Backoff backoff_;  // between connection attempts
  int live_workers_ = 1;
  // Entries delivered by the last read round, and the average per partition under which the
  // next round reads with scripts (one round trip) rather than transactions (N + 1).
  size_t last_read_entries_ = 0;
  static constexpr size_t kScriptReadBelow = 16;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_WORKER_H_
