// Partition ownership. Every third of the lease time a worker: refreshes its entry in the
// member set (expiring like a lease), renews its leases, gives back leases above its fair
// share (ceil(partitions / live workers)), and takes free or expired leases up to that share.
// At acquisition it claims every pending entry of the partition (XAUTOCLAIM, min idle 0: the
// lease fences the former owner out), then re-reads them before any new entry, so a dyad's
// ratings are applied in stream order. See docs/worker.md.
#include "absl/strings/str_cat.h"
#include "analytics/hash.h"
#include "common/log.h"
#include "worker/worker.h"

namespace alliance::worker {

absl::Status Worker::ClaimPending(int p, absl::Duration min_idle, bool* claimed_any) {
  const std::string group(kWorkerGroup);
  std::string lease = layout_.Lease(p), stream = layout_.FeedbackStream(p);
  std::string idle = std::to_string(absl::ToInt64Milliseconds(min_idle));
  std::string cursor = "0-0";
  // Bounded: 10,000 pages of 1,000 entries.
  for (int page = 0; page < 10000; ++page) {
    absl::StatusOr<RedisReplyPtr> reply =
        redis_->Command(lease, redis_->Eval(Script::kFencedClaim, {lease, stream},
                                            {config_.worker_id, group, idle, cursor, "1000"}));
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_INTEGER) {
      LosePartition(p, "claim refused");
      return absl::OkStatus();
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2) {
      return absl::InternalError("unexpected claim reply");
    }
    if (r.element[1]->integer > 0) *claimed_any = true;
    cursor = std::string(ReplyString(*r.element[0]));
    if (cursor == "0-0") break;
  }
  return absl::OkStatus();
}

absl::Status Worker::LeaseRound() {
  const std::string ttl = std::to_string(absl::ToInt64Milliseconds(config_.lease));
  // The member set and each lease are keys of their own slots: one group each.
  std::vector<CommandGroup> renewals = {
      {members_key_,
       {redis_->Eval(Script::kHeartbeat, {members_key_}, {config_.worker_id, ttl, "0"})}}};
  std::vector<int> owned = OwnedPartitions();
  for (int p : owned) {
    std::string lease = layout_.Lease(p);
    renewals.push_back(
        {lease, {redis_->Eval(Script::kLeaseKeep, {lease}, {config_.worker_id, ttl})}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> renewed = redis_->Run(renewals);
  if (!renewed.ok()) return renewed.status();
  const redisReply& members = *(*renewed)[0][0];
  if (absl::Status s = ReplyStatus(members); !s.ok()) return s;
  live_workers_ = std::max<int>(1, static_cast<int>(members.integer));
  metrics_->live_workers->Set(live_workers_);
  for (size_t i = 0; i < owned.size(); ++i) {
    const int p = owned[i];
    const RedisReplyPtr& reply = (*renewed)[i + 1][0];
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->integer == 0) {
      LosePartition(p, "renewal refused");
    } else if (reply->integer == 2) {
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
    std::string lease = layout_.Lease(p);
    absl::StatusOr<RedisReplyPtr> reply =
        redis_->Command(lease, redis_->Eval(Script::kLeaseRelease, {lease}, {config_.worker_id}));
    if (!reply.ok()) return reply.status();
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
    std::vector<CommandGroup> probes;
    for (int p : candidates) {
      std::string lease = layout_.Lease(p);
      probes.push_back({lease, {{"EXISTS", lease}}});
    }
    absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> exists = redis_->Run(probes);
    if (!exists.ok()) return exists.status();
    std::vector<int> free;
    for (size_t i = 0; i < candidates.size(); ++i) {
      const redisReply& r = *(*exists)[i][0];
      if (r.type == REDIS_REPLY_INTEGER && r.integer == 0) free.push_back(candidates[i]);
    }
    for (int p : free) {
      if (static_cast<int>(owned.size()) >= fair) break;
      std::string lease = layout_.Lease(p);
      absl::StatusOr<RedisReplyPtr> reply = redis_->Command(
          lease, redis_->Eval(Script::kLeaseKeep, {lease}, {config_.worker_id, ttl}));
      if (!reply.ok()) return reply.status();
      if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
      if ((*reply)->integer == 0) continue;  // another worker was faster
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
