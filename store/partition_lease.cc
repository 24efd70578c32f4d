// Leases and the live-worker set (see partition_lease.h).
#include "store/partition_lease.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "store/script_call.h"

namespace alliance {
namespace {

absl::StatusOr<int64_t> IntegerReply(const redisReply& reply, std::string_view what) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_INTEGER) {
    return absl::InternalError(
        absl::StrCat("redis: unexpected reply type ", reply.type, " of ", std::string(what)));
  }
  return reply.integer;
}

absl::StatusOr<LeaseKeep> KeepReply(const redisReply& reply) {
  absl::StatusOr<int64_t> n = IntegerReply(reply, "lease_keep.lua");
  if (!n.ok()) return n.status();
  if (*n < 0 || *n > 2) return absl::InternalError("redis: unexpected reply of lease_keep.lua");
  return static_cast<LeaseKeep>(*n);
}

std::string Millis(absl::Duration d) { return std::to_string(absl::ToInt64Milliseconds(d)); }

}  // namespace

absl::StatusOr<LeaseRenewals> RenewLeases(RedisExecutor& redis, const ScriptShas& scripts,
                                          const KeyLayout& layout, const LeaseHolder& holder,
                                          std::span<const int> partitions) {
  const std::string ttl = Millis(holder.ttl), members = layout.WorkerMembers();
  ScriptCalls calls(redis, scripts);
  calls.Add(Script::kHeartbeat, {members}, {std::string(holder.worker_id), ttl, "0"});
  for (int p : partitions) {
    calls.Add(Script::kLeaseKeep, {layout.Lease(p)}, {std::string(holder.worker_id), ttl});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  LeaseRenewals out;
  absl::StatusOr<int64_t> live = IntegerReply(*(*replies)[0], "heartbeat.lua");
  if (!live.ok()) return live.status();
  out.live_workers = *live;
  for (size_t i = 0; i < partitions.size(); ++i) {
    absl::StatusOr<LeaseKeep> keep = KeepReply(*(*replies)[i + 1]);
    if (!keep.ok()) return keep.status();
    out.leases.push_back(*keep);
  }
  return out;
}

absl::StatusOr<LeaseKeep> KeepLease(RedisExecutor& redis, const ScriptShas& scripts,
                                    const KeyLayout& layout, const LeaseHolder& holder,
                                    int partition) {
  ScriptCalls calls(redis, scripts);
  calls.Add(Script::kLeaseKeep, {layout.Lease(partition)},
            {std::string(holder.worker_id), Millis(holder.ttl)});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  return KeepReply(*replies->front());
}

absl::StatusOr<bool> ReleaseLease(RedisExecutor& redis, const ScriptShas& scripts,
                                  const KeyLayout& layout, const LeaseHolder& holder,
                                  int partition) {
  ScriptCalls calls(redis, scripts);
  calls.Add(Script::kLeaseRelease, {layout.Lease(partition)}, {std::string(holder.worker_id)});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  absl::StatusOr<int64_t> n = IntegerReply(*replies->front(), "lease_release.lua");
  if (!n.ok()) return n.status();
  return *n == 1;
}

absl::StatusOr<std::vector<bool>> FreeLeases(RedisExecutor& redis, const KeyLayout& layout,
                                             std::span<const int> partitions) {
  std::vector<std::string> leases;
  leases.reserve(partitions.size());
  for (int p : partitions) leases.push_back(layout.Lease(p));
  std::vector<SlotCommand> probes;
  probes.reserve(partitions.size());
  for (const std::string& lease : leases)
    probes.push_back({redis.SlotOf(lease), {"EXISTS", lease}});
  std::vector<bool> out;
  if (probes.empty()) return out;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(probes);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    absl::StatusOr<int64_t> n = IntegerReply(*reply, "EXISTS");
    if (!n.ok()) return n.status();
    out.push_back(*n == 0);
  }
  return out;
}

absl::Status ReleaseAllAndLeave(RedisExecutor& redis, const ScriptShas& scripts,
                                const KeyLayout& layout, const LeaseHolder& holder,
                                std::span<const int> partitions) {
  ScriptCalls calls(redis, scripts);
  for (int p : partitions) {
    calls.Add(Script::kLeaseRelease, {layout.Lease(p)}, {std::string(holder.worker_id)});
  }
  calls.Add(Script::kHeartbeat, {layout.WorkerMembers()},
            {std::string(holder.worker_id), Millis(holder.ttl), "1"});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace alliance
