// The Redis key layout of Alliance (documented in docs/redis-layout.md). Every key of a
// partition carries the partition's {hash tag}, so one Lua script can touch them all and the
// layout works unchanged on Redis Cluster.
#ifndef ALLIANCE_STORE_KEYS_H_
#define ALLIANCE_STORE_KEYS_H_

#include <string>
#include <string_view>

namespace alliance {

// Consumer group of the analytics workers on every feedback stream.
inline constexpr std::string_view kWorkerGroup = "alliance-worker";
// Version written in the "v" field of every stream entry.
inline constexpr std::string_view kEntryVersion = "1";

class KeyLayout {
 public:
  explicit KeyLayout(int partitions, std::string prefix = "alliance")
      : partitions_(partitions), prefix_(std::move(prefix)) {}

  int partitions() const { return partitions_; }

  // Partition of a dyad: all of a dyad's ratings land in one partition, in order.
  int PartitionOf(std::string_view tenant_id, std::string_view therapist_id,
                  std::string_view client_id) const;

  // "alliance:{p3}" - the hash-tagged prefix of partition 3.
  std::string PartitionPrefix(int partition) const;
  // Stream of submitted feedback.
  std::string FeedbackStream(int partition) const;
  // Stream of alert events raised by the worker.
  std::string AlertStream(int partition) const;
  // Stream of feedback entries that failed processing repeatedly.
  std::string DeadLetterStream(int partition) const;
  // Worker lease of the partition (value: owner id).
  std::string Lease(int partition) const;
  // Counter of erasures in the partition (an integer that DeleteClientData increments in the
  // transaction that deletes feedback entries): the worker compares it at read and at write
  // time to know whether entries it holds may have been erased meanwhile.
  std::string ErasureCount(int partition) const;
  // Idempotency record of one submission.
  std::string Idempotency(int partition, std::string_view tenant_id,
                          std::string_view idempotency_id) const;
  // State of one dyad: the head of its alliance.internal.v1.DyadRecord (every field but the
  // ratings and alerts; see store/dyad_record_io.h).
  std::string DyadState(int partition, std::string_view tenant_id, std::string_view therapist_id,
                        std::string_view client_id) const;
  // The dyad's ratings and alerts (DyadRecord fields 5 and 7 in wire format), appended to.
  std::string DyadLog(int partition, std::string_view tenant_id, std::string_view therapist_id,
                      std::string_view client_id) const;
  // Sorted set (all scores 0) of "therapist_id:client_id" for one tenant in one partition.
  std::string DyadIndex(int partition, std::string_view tenant_id) const;
  // What the dyad adds to its therapist's summary (hash of integer fields,
  // analytics::ContributionFields), kept so that the next write adds only the difference and an
  // erasure subtracts it (docs/redis-layout.md, "Therapist summaries").
  std::string DyadSummary(int partition, std::string_view tenant_id, std::string_view therapist_id,
                          std::string_view client_id) const;
  // Sum of the contributions of one therapist's dyads in this partition (hash).
  std::string TherapistSummary(int partition, std::string_view tenant_id,
                               std::string_view therapist_id) const;
  // Sum of the contributions of all the tenant's dyads in this partition (hash).
  std::string TenantSummary(int partition, std::string_view tenant_id) const;
  // Sorted set of the tenant's therapists with dyads in this partition (score: their dyads).
  std::string SummaryTherapists(int partition, std::string_view tenant_id) const;
  // Sorted set of the partition's dyads watched for the no-rating-during-rupture disengagement
  // trigger (analytics/disengagement.h): member worker::WatchMember (length-prefixed ids),
  // score the Unix ms at which the trigger becomes due.
  std::string DisengagementWatch(int partition) const;
  // Hash of an alert's workflow status (status, who, when). Written by insights only, outside
  // any partition script, so it needs no partition tag.
  std::string AlertStatus(std::string_view tenant_id, std::string_view alert_id) const;
  // Sorted set of live workers (score: expiry in ms on the Redis clock), from which each
  // worker derives its fair share of partitions. Outside any partition.
  std::string WorkerMembers() const;
  // The partition count this deployment was created with (store/partition_guard.h). Outside
  // any partition.
  std::string PartitionCount() const;
  // Hash of one dashboard sign-in session (store/dashboard_sessions.h), named by the SHA-256
  // (hex) of its cookie token; alone in its key, so it needs no tag. Outside any partition.
  std::string DashboardSession(std::string_view token_sha256) const;

 private:
  int partitions_;
  std::string prefix_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_KEYS_H_
