// The worker's main loop: connection and reconnect with the shared backoff (store/backoff.h),
// fenced batch reads (store/feedback_reads.h), the blocking wait for new entries (a short poll
// on a Redis Cluster), and the graceful shutdown (store/partition_lease.h).
#include "worker/worker.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/feedback_reads.h"
#include "store/partition_lease.h"

namespace alliance::worker {

Worker::Worker(WorkerConfig config, KeyLayout layout, RedisTarget target,
               const analytics::InstrumentRegistry* registry, analytics::RuleConfig rules,
               WorkerMetrics* metrics, std::function<void(bool)> on_redis_health)
    : config_(std::move(config)),
      layout_(std::move(layout)),
      target_(std::move(target)),
      registry_(registry),
      rules_(rules),
      metrics_(metrics),
      on_redis_health_(std::move(on_redis_health)),
      clock_(MakeClock(config_.test_now_file)),
      partitions_(layout_.partitions()),
      members_key_(layout_.WorkerMembers()),
      cache_(static_cast<size_t>(config_.dyad_cache_entries)),
      backoff_(BackoffPolicy{config_.backoff_min, config_.backoff_max}) {}

std::vector<int> Worker::OwnedPartitions() const {
  std::vector<int> owned;
  for (int p = 0; p < static_cast<int>(partitions_.size()); ++p) {
    if (partitions_[p].owned) owned.push_back(p);
  }
  return owned;
}

void Worker::LosePartition(int p, std::string_view why) {
  if (!partitions_[p].owned) return;
  partitions_[p] = Partition{};
  cache_.ErasePartition(p);
  PartitionMetrics& m = metrics_->partition[p];
  m.owned->Set(0);
  m.lag->Set(0);
  m.pending->Set(0);
  m.backlog_alarm->Set(0);
  metrics_->leases_lost->Increment();
  metrics_->partitions_owned->Set(static_cast<double>(OwnedPartitions().size()));
  LogWarning("lease_lost", {{"partition", int64_t{p}}, {"why", why}});
}

absl::Status Worker::Connect() {
  // Blocking reads (single Redis) wait up to --block_ms on top of the usual command time.
  absl::StatusOr<std::unique_ptr<WorkerRedis>> conn =
      WorkerRedis::Connect(target_, layout_, config_.block);
  if (!conn.ok()) return conn.status();
  if (absl::Status s = CreateWorkerGroups((*conn)->executor(), layout_); !s.ok()) return s;
  redis_ = *std::move(conn);
  // Writes in flight when the connection failed may or may not have landed.
  cache_.Clear();
  // Whatever was in flight may or may not have been applied: re-read our pending entries.
  for (Partition& part : partitions_) {
    part.pending_mode = part.owned;
    part.pel_cursor = std::string(1, '0');
    part.pass_had_failures = false;
  }
  return absl::OkStatus();
}

void Worker::Run(const std::atomic<bool>& stop) {
  bool ever_connected = false;
  while (!stop.load()) {
    if (redis_ == nullptr || redis_->unusable()) {
      redis_.reset();
      on_redis_health_(false);
      metrics_->redis_up->Set(0);
      if (absl::Status s = Connect(); !s.ok()) {
        const absl::Duration delay = backoff_.Next();
        LogWarning("redis_connect_failed",
                   {{"error", Std(s.message())}, {"retry_ms", absl::ToInt64Milliseconds(delay)}});
        // Cut short by SIGTERM (store/backoff.h).
        Backoff::Sleep(delay, [&stop] { return stop.load(); });
        continue;
      }
      if (ever_connected) metrics_->redis_reconnects->Increment();
      ever_connected = true;
      backoff_.Reset();
      on_redis_health_(true);
      metrics_->redis_up->Set(1);
      LogInfo("redis_connected", {{"worker_id", config_.worker_id}});
    }
    if (absl::Status s = Step(stop); !s.ok()) {
      metrics_->redis_errors->Increment();
      LogWarning("redis_error", {{"error", Std(s.message())}});
      // Any failure resets the connection: the reconnect reloads scripts and groups and
      // re-reads pending entries, so nothing half-done is acknowledged.
      redis_.reset();
    } else if (redis_ != nullptr && redis_->unusable()) {
      // A step that returned early with replies unread would hand them to the next step's
      // commands; a fresh connection is the one safe answer (and the log says it happened).
      LogWarning("redis_replies_left_unread",
                 {{"replies", static_cast<int64_t>(redis_->connection()->pending_replies())}});
      redis_.reset();
    }
  }
  Shutdown();
}

absl::Status Worker::Step(const std::atomic<bool>& stop) {
  absl::Time now = absl::Now();
  if (now >= next_lease_round_) {
    if (absl::Status s = LeaseRound(); !s.ok()) return s;
    next_lease_round_ = now + config_.lease / 3;
  }
  if (now >= next_maintenance_) {
    if (absl::Status s = Maintenance(); !s.ok()) return s;
    next_maintenance_ = now + config_.maintenance_interval;
  }
  if (OwnedPartitions().empty()) {
    absl::Duration wait = std::min(config_.block, next_lease_round_ - absl::Now());
    if (wait > absl::ZeroDuration() && !stop.load()) absl::SleepFor(wait);
    return absl::OkStatus();
  }
  absl::Time start = absl::Now();
  Batch batch;
  bool idle = false;
  if (absl::Status s = ReadBatch(&batch, &idle); !s.ok()) return s;
  if (!batch.empty()) {
    absl::Status s = ApplyBatch(batch);
    size_t entries = 0;
    for (const auto& [p, list] : batch) entries += list.size();
    metrics_->batch_seconds->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    metrics_->batch_size->Observe(static_cast<double>(entries));
    return s;
  }
  if (idle && !stop.load()) return WaitForEntries();
  return absl::OkStatus();
}

// Reads are fenced (store/feedback_reads.h): small rounds (live traffic) by a script per
// partition, all in one round trip; large rounds (a backlog, a burst) by an optimistic
// transaction per partition, N + 1 round trips without the script's per-entry conversion.
absl::Status Worker::ReadBatch(Batch* batch, bool* idle) {
  std::vector<int> owned = OwnedPartitions();
  bool pending = std::any_of(owned.begin(), owned.end(),
                             [this](int p) { return partitions_[p].pending_mode; });
  std::vector<FeedbackReadRequest> requests;
  for (int p : owned) {
    if (!pending || partitions_[p].pending_mode) {
      requests.push_back({p, pending ? partitions_[p].pel_cursor : std::string(">")});
    }
  }
  *idle = !pending;
  if (requests.empty()) return absl::OkStatus();
  // On a cluster the transaction's WATCH and EXEC would have to reach the same node over the
  // same connection across two exchanges, which a redirection in between breaks: scripts only.
  const bool small = redis_->cluster() || last_read_entries_ < kScriptReadBelow * requests.size();
  last_read_entries_ = 0;
  const FeedbackReader reader{config_.worker_id, config_.batch_size};
  absl::StatusOr<std::vector<FencedFeedbackRead>> reads =
      small ? ReadFencedByScript(redis_->executor(), redis_->scripts(), layout_, reader, requests)
            : ReadFencedByTransaction(*redis_->connection(), layout_, reader, requests);
  if (!reads.ok()) return reads.status();
  for (size_t i = 0; i < requests.size(); ++i) {
    const int p = requests[i].partition;
    FencedFeedbackRead& read = (*reads)[i];
    switch (read.outcome) {
      case FencedFeedbackRead::Outcome::kLeaseLost:
        LosePartition(p, "fenced read refused");
        break;
      case FencedFeedbackRead::Outcome::kInterrupted:
        break;  // the lease was touched meanwhile: nothing was read; the next round looks again
      case FencedFeedbackRead::Outcome::kRead:
        TakeRead(p, pending, std::move(read), batch, idle);
        break;
    }
  }
  return absl::OkStatus();
}

void Worker::TakeRead(int p, bool pending, FencedFeedbackRead read, Batch* batch, bool* idle) {
  Partition& part = partitions_[p];
  part.erasures_at_read = std::move(read.erasures);
  std::vector<StreamEntry>& entries = read.entries;
  if (!pending && entries.empty()) {
    part.last_id = read.last_id.empty() ? std::string("0-0") : std::move(read.last_id);
    return;
  }
  if (pending) {
    if (entries.empty()) {
      // End of a pass over our pending entries. Another pass when some failed (each pass
      // counts one more delivery, so failing entries reach --max_attempts); else new entries.
      part.pel_cursor = std::string(1, '0');
      part.pending_mode = part.pass_had_failures;
      part.pass_had_failures = false;
      return;
    }
    part.pel_cursor = entries.back().id;
  }
  *idle = false;
  last_read_entries_ += entries.size();
  (*batch)[p] = std::move(entries);
}

absl::Status Worker::WaitForEntries() {
  if (redis_->cluster()) {
    // One XREAD cannot wait on streams of several slots (CROSSSLOT), and a blocked call would
    // hold the connection to one primary: on a cluster the next fenced reads are the poll.
    absl::SleepFor(std::min(config_.block, config_.cluster_poll));
    return absl::OkStatus();
  }
  std::vector<int> owned = OwnedPartitions();
  std::vector<StreamPosition> positions;
  for (int p : owned) positions.push_back({p, partitions_[p].last_id});
  return WaitForNewEntries(*redis_->connection(), layout_, positions, config_.block);
}

bool Worker::CheckWait(int p, std::optional<int64_t> replicas) {
  if (replicas.has_value() && *replicas >= target_.wait_replicas) return true;
  metrics_->replicas_unconfirmed->Increment();
  LogWarning("replicas_unconfirmed", {{"partition", int64_t{p}},
                                      {"replicas", replicas.value_or(-1)},
                                      {"wanted", int64_t{target_.wait_replicas}}});
  // A failover now could take these writes with it: the states in memory may be ahead of what
  // the new primary holds (the version checks would also notice), and acknowledged entries may
  // be pending there again. Re-read them; applying twice is a no-op (rating ids, versions).
  cache_.ErasePartition(p);
  Partition& part = partitions_[p];
  if (part.owned && !part.pending_mode) {
    part.pending_mode = true;
    part.pel_cursor = std::string(1, '0');
  }
  return false;
}

void Worker::Shutdown() {
  if (redis_ == nullptr || redis_->unusable()) return;
  std::vector<int> owned = OwnedPartitions();
  // Best effort: leases expire anyway.
  (void)ReleaseAllAndLeave(redis_->executor(), redis_->scripts(), layout_,
                           {config_.worker_id, config_.lease}, owned);
  for (int p : owned) {
    partitions_[p] = Partition{};
    cache_.ErasePartition(p);
    metrics_->partition[p].owned->Set(0);
  }
  LogInfo("leases_released", {{"partitions", static_cast<int64_t>(owned.size())}});
}

}  // namespace alliance::worker
