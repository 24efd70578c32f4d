// Partition ownership. Every third of the lease time a worker: refreshes its entry in the
// member set (expiring like a lease), renews its leases, gives back leases above its fair
// share (ceil(partitions / live workers)), and takes free or expired leases up to that share.
// At acquisition it claims every pending entry of the partition (XAUTOCLAIM, min idle 0: the
// lease fences the former owner out), then re-reads them before any new entry, so a dyad's
// ratings are applied in stream order. The Redis side is store/partition_lease.h and
// store/feedback_reads.h. See docs/worker.md.
#include "absl/strings/str_cat.h"
#include "analytics/hash.h"
#include "common/log.h"
#include "store/feedback_reads.h"
#include "store/partition_lease.h"
#include "worker/worker.h"

namespace alliance::worker {

absl::Status Worker::ClaimPending(int p, absl::Duration min_idle, bool* claimed_any) {
  absl::StatusOr<ClaimResult> claim = ClaimPendingEntries(redis_->executor(), redis_->scripts(),
                                                          layout_, config_.worker_id, p, min_idle);
  if (!claim.ok()) return claim.status();
  if (claim->claimed_any) *claimed_any = true;
  if (claim->lease_lost) LosePartition(p, "claim refused");
  return absl::OkStatus();
}

absl::Status Worker::LeaseRound() {
  const LeaseHolder holder{config_.worker_id, config_.lease};
  std::vector<int> owned = OwnedPartitions();
  absl::StatusOr<LeaseRenewals> renewed =
      RenewLeases(redis_->executor(), redis_->scripts(), layout_, holder, owned);
  if (!renewed.ok()) return renewed.status();
  live_workers_ = std::max<int>(1, static_cast<int>(renewed->live_workers));
  metrics_->live_workers->Set(live_workers_);
  for (size_t i = 0; i < owned.size(); ++i) {
    const int p = owned[i];
    if (renewed->leases[i] == LeaseKeep::kHeldByAnother) {
      LosePartition(p, "renewal refused");
    } else if (renewed->leases[i] == LeaseKeep::kTaken) {
      // Our lease had expired and was free: another worker may have held it and written
      // meanwhile, so the states in memory are not to be trusted (the version checks would
      // also catch it) and its pending entries may be ours again: re-read them.
      cache_.ErasePartition(p);
      partitions_[p].pending_mode = true;
      partitions_[p].pel_cursor = std::string(1, '0');
    }
  }

  const int n = layout_.partitions();
  const int fair = (n + live_workers_ - 1) / live_workers_;
  owned = OwnedPartitions();
  // Shed the excess (between batches, so nothing is in flight); the next owner claims our
  // pending entries.
  while (static_cast<int>(owned.size()) > fair) {
    int p = owned.back();
    owned.pop_back();
    absl::StatusOr<bool> released =
        ReleaseLease(redis_->executor(), redis_->scripts(), layout_, holder, p);
    if (!released.ok()) return released.status();
    partitions_[p] = Partition{};
    cache_.ErasePartition(p);
    metrics_->partition[p].owned->Set(0);
    LogInfo("lease_released", {{"partition", int64_t{p}}, {"fair_share", int64_t{fair}}});
  }

  std::vector<int> acquired;
  if (static_cast<int>(owned.size()) < fair) {
    // Start at a worker-specific offset so workers starting together spread out.
    int start = static_cast<int>(analytics::Fnv1a64({config_.worker_id}) % n);
    std::vector<int> candidates;
    for (int i = 0; i < n; ++i) {
      int p = (start + i) % n;
      if (!partitions_[p].owned) candidates.push_back(p);
    }
    absl::StatusOr<std::vector<bool>> free = FreeLeases(redis_->executor(), layout_, candidates);
    if (!free.ok()) return free.status();
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (!(*free)[i]) continue;
      if (static_cast<int>(owned.size()) >= fair) break;
      const int p = candidates[i];
      absl::StatusOr<LeaseKeep> kept =
          KeepLease(redis_->executor(), redis_->scripts(), layout_, holder, p);
      if (!kept.ok()) return kept.status();
      if (*kept == LeaseKeep::kHeldByAnother) continue;  // another worker was faster
      Partition& part = partitions_[p];
      part = Partition{};
      cache_.ErasePartition(p);
      part.owned = true;
      owned.push_back(p);
      acquired.push_back(p);
      metrics_->leases_acquired->Increment();
      metrics_->partition[p].owned->Set(1);
      LogInfo("lease_acquired", {{"partition", int64_t{p}}, {"fair_share", int64_t{fair}}});
    }
  }
  for (int p : acquired) {
    bool claimed = false;
    if (absl::Status s = ClaimPending(p, absl::ZeroDuration(), &claimed); !s.ok()) return s;
    partitions_[p].pending_mode = partitions_[p].owned;
  }
  // Safety net for entries another consumer read after we took the partition.
  for (int p : OwnedPartitions()) {
    if (std::find(acquired.begin(), acquired.end(), p) != acquired.end()) continue;
    bool claimed = false;
    if (absl::Status s = ClaimPending(p, config_.claim_idle, &claimed); !s.ok()) return s;
    if (claimed && !partitions_[p].pending_mode) {
      partitions_[p].pending_mode = true;
      partitions_[p].pel_cursor = std::string(1, '0');
    }
  }
  metrics_->partitions_owned->Set(static_cast<double>(OwnedPartitions().size()));
  return absl::OkStatus();
}

}  // namespace alliance::worker
