// The worker's main loop: connection and reconnect with backoff, fenced batch reads, the
// blocking wait for new entries (a short poll on a Redis Cluster), and the graceful shutdown.
#include "worker/worker.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/partition_guard.h"

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
      partitions_(layout_.partitions()),
      members_key_(layout_.WorkerMembers()),
      cache_(static_cast<size_t>(config_.dyad_cache_entries)),
      backoff_(config_.backoff_min) {}

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
  const std::string group(kWorkerGroup);
  std::vector<CommandGroup> creates;
  for (int p = 0; p < layout_.partitions(); ++p) {
    std::string stream = layout_.FeedbackStream(p);
    creates.push_back({stream, {{"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"}}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> replies = (*conn)->Run(creates);
  if (!replies.ok()) return replies.status();
  for (const std::vector<RedisReplyPtr>& reply : *replies) {
    if (reply[0]->type == REDIS_REPLY_ERROR &&
        !absl::StartsWith(Absl(ReplyString(*reply[0])), "BUSYGROUP")) {
      return ReplyStatus(*reply[0]);
    }
  }
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
        LogWarning("redis_connect_failed", {{"error", Std(s.message())},
                                            {"retry_ms", absl::ToInt64Milliseconds(backoff_)}});
        // Sleep in short slices so SIGTERM is honoured promptly.
        absl::Time until = absl::Now() + backoff_;
        while (!stop.load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
        backoff_ = std::min(backoff_ * 2, config_.backoff_max);
        continue;
      }
      if (ever_connected) metrics_->redis_reconnects->Increment();
      ever_connected = true;
      backoff_ = config_.backoff_min;
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

// Reads are fenced in one of two ways, both checking the lease atomically with the delivery:
// - small rounds (live traffic): one Lua script per partition, all pipelined in one round trip;
//   the script converts each entry to Lua values and back, which is cheap for a few entries;
// - large rounds (a backlog, a burst): an optimistic transaction per partition (its keys share
//   one hash slot): WATCH and GET the lease; if it names this worker, MULTI, XREADGROUP, the
//   erasure counter, the stream's last id, EXEC. Another worker taking the lease in between
//   touches the watched key, so EXEC delivers nothing. The transactions are chained in one
//   pipeline (each EXEC goes out with the next partition's WATCH and GET): N + 1 round trips,
//   and the entries reach us without the conversion a script costs per entry.
absl::Status Worker::ReadBatch(Batch* batch, bool* idle) {
  std::vector<int> owned = OwnedPartitions();
  bool pending = std::any_of(owned.begin(), owned.end(),
                             [this](int p) { return partitions_[p].pending_mode; });
  std::vector<int> targets;
  for (int p : owned) {
    if (!pending || partitions_[p].pending_mode) targets.push_back(p);
  }
  *idle = !pending;
  if (targets.empty()) return absl::OkStatus();
  // On a cluster the transaction's WATCH and EXEC would have to reach the same node over the
  // same connection across two exchanges, which a redirection in between breaks: scripts only.
  const bool small = redis_->cluster() || last_read_entries_ < kScriptReadBelow * targets.size();
  last_read_entries_ = 0;
  return small ? ReadWithScripts(targets, pending, batch, idle)
               : ReadWithTransactions(targets, pending, batch, idle);
}

void Worker::TakeRead(int p, bool pending, std::vector<StreamEntry> entries, std::string erasures,
                      const redisReply* last, Batch* batch, bool* idle) {
  Partition& part = partitions_[p];
  part.erasures_at_read = std::move(erasures);
  if (!pending && entries.empty()) {
    part.last_id = last != nullptr && last->type == REDIS_REPLY_ARRAY && last->elements > 0 &&
                           last->element[0]->type == REDIS_REPLY_ARRAY &&
                           last->element[0]->elements > 0
                       ? std::string(ReplyString(*last->element[0]->element[0]))
                       : std::string("0-0");
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

absl::Status Worker::ReadWithScripts(const std::vector<int>& targets, bool pending, Batch* batch,
                                     bool* idle) {
  const std::string group(kWorkerGroup);
  const std::string count = std::to_string(config_.batch_size);
  std::vector<CommandGroup> reads;
  for (int p : targets) {
    std::string lease = layout_.Lease(p), stream = layout_.FeedbackStream(p);
    std::string erasures = layout_.ErasureCount(p);
    std::string from = pending ? partitions_[p].pel_cursor : std::string(">");
    reads.push_back({lease,
                     {redis_->Eval(Script::kFencedRead, {lease, stream, erasures},
                                   {config_.worker_id, group, count, from})}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> replies = redis_->Run(reads);
  if (!replies.ok()) return replies.status();
  for (size_t t = 0; t < targets.size(); ++t) {
    const int p = targets[t];
    const redisReply& r = *(*replies)[t][0];
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_INTEGER) {
      LosePartition(p, "fenced read refused");
      continue;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 3) {
      return absl::InternalError("unexpected fenced read reply");
    }
    std::string erasures(ReplyString(*r.element[2]));
    if (r.element[0]->integer == 0) {  // nothing new: the stream's last id
      TakeRead(p, pending, {}, std::move(erasures), r.element[1], batch, idle);
      continue;
    }
    absl::StatusOr<std::vector<StreamEntry>> entries = ParseEntries(*r.element[1]);
    if (!entries.ok()) return entries.status();
    TakeRead(p, pending, *std::move(entries), std::move(erasures), nullptr, batch, idle);
  }
  return absl::OkStatus();
}

absl::Status Worker::ReadWithTransactions(const std::vector<int>& targets, bool pending,
                                          Batch* batch, bool* idle) {
  const std::string group(kWorkerGroup);
  const std::string count = std::to_string(config_.batch_size);
  RedisConnection* conn = redis_->connection();  // single Redis only (see ReadBatch)
  auto watch = [&](int p) {
    std::string lease = layout_.Lease(p);
    conn->Append({"WATCH", lease});
    conn->Append({"GET", lease});
  };
  auto reply_ok = [&](absl::StatusOr<RedisReplyPtr>& r) -> absl::Status {
    if (!r.ok()) return r.status();
    return ReplyStatus(**r);
  };
  watch(targets[0]);
  for (size_t t = 0; t < targets.size(); ++t) {
    const int p = targets[t];
    absl::StatusOr<RedisReplyPtr> watched = conn->GetReply();
    if (absl::Status s = reply_ok(watched); !s.ok()) return s;
    absl::StatusOr<RedisReplyPtr> owner = conn->GetReply();
    if (absl::Status s = reply_ok(owner); !s.ok()) return s;
    const bool ours = (*owner)->type == REDIS_REPLY_STRING &&
                      ReplyString(**owner) == std::string_view(config_.worker_id);
    const std::string stream = layout_.FeedbackStream(p);
    if (ours) {
      std::string_view from = pending ? std::string_view(partitions_[p].pel_cursor) : ">";
      conn->Append({"MULTI"});
      conn->Append({"XREADGROUP", "GROUP", group, config_.worker_id, "COUNT", count, "STREAMS",
                    stream, from});
      conn->Append({"GET", layout_.ErasureCount(p)});
      if (!pending) conn->Append({"XREVRANGE", stream, "+", "-", "COUNT", "1"});
      conn->Append({"EXEC"});
    } else {
      conn->Append({"UNWATCH"});
    }
    if (t + 1 < targets.size()) watch(targets[t + 1]);
    if (!ours) {
      absl::StatusOr<RedisReplyPtr> unwatched = conn->GetReply();
      if (absl::Status s = reply_ok(unwatched); !s.ok()) return s;
      LosePartition(p, "fenced read refused");
      continue;
    }
    const size_t queued = pending ? 2 : 3;
    for (size_t i = 0; i <= queued; ++i) {  // MULTI's OK, then QUEUED per command
      absl::StatusOr<RedisReplyPtr> r = conn->GetReply();
      if (absl::Status s = reply_ok(r); !s.ok()) return s;
    }
    absl::StatusOr<RedisReplyPtr> exec = conn->GetReply();
    if (absl::Status s = reply_ok(exec); !s.ok()) return s;
    const redisReply& r = **exec;
    // The lease was touched meanwhile: nothing was read; the next round looks again.
    if (r.type == REDIS_REPLY_NIL) continue;
    if (r.type != REDIS_REPLY_ARRAY || r.elements != queued) {
      return absl::InternalError("unexpected fenced read reply");
    }
    for (size_t i = 0; i < queued; ++i) {
      if (absl::Status s = ReplyStatus(*r.element[i]); !s.ok()) return s;
    }
    const redisReply& read = *r.element[0];
    std::string erasures = r.element[1]->type == REDIS_REPLY_STRING
                               ? std::string(ReplyString(*r.element[1]))
                               : std::string(1, '0');
    std::vector<StreamEntry> entries;
    if (read.type == REDIS_REPLY_ARRAY && read.elements == 1 &&
        read.element[0]->type == REDIS_REPLY_ARRAY && read.element[0]->elements == 2) {
      absl::StatusOr<std::vector<StreamEntry>> parsed = ParseEntries(*read.element[0]->element[1]);
      if (!parsed.ok()) return parsed.status();
      entries = *std::move(parsed);
    } else if (read.type != REDIS_REPLY_NIL) {
      return absl::InternalError("unexpected XREADGROUP reply");
    }
    TakeRead(p, pending, std::move(entries), std::move(erasures), pending ? nullptr : r.element[2],
             batch, idle);
  }
  return absl::OkStatus();
}

absl::Status Worker::WaitForEntries() {
  if (redis_->cluster()) {
    // One XREAD cannot wait on streams of several slots (CROSSSLOT), and a blocked call would
    // hold the connection to one primary: on a cluster the next fenced reads are the poll.
    absl::SleepFor(std::min(config_.block, config_.cluster_poll));
    return absl::OkStatus();
  }
  std::vector<int> owned = OwnedPartitions();
  std::vector<std::string> args = {
      "XREAD",  "COUNT", "1", "BLOCK", std::to_string(absl::ToInt64Milliseconds(config_.block)),
      "STREAMS"};
  for (int p : owned) args.push_back(layout_.FeedbackStream(p));
  for (int p : owned) args.push_back(partitions_[p].last_id);
  std::vector<std::string_view> views(args.begin(), args.end());
  absl::StatusOr<RedisReplyPtr> reply = redis_->connection()->Command(views);
  if (!reply.ok()) return reply.status();
  return ReplyStatus(**reply);
}

bool Worker::CheckWait(int p, const redisReply& reply) {
  if (reply.type == REDIS_REPLY_INTEGER && reply.integer >= target_.wait_replicas) return true;
  metrics_->replicas_unconfirmed->Increment();
  LogWarning("replicas_unconfirmed",
             {{"partition", int64_t{p}},
              {"replicas", reply.type == REDIS_REPLY_INTEGER ? int64_t{reply.integer} : -1},
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
  std::vector<CommandGroup> goodbye;
  for (int p : owned) {
    std::string lease = layout_.Lease(p);
    goodbye.push_back({lease, {redis_->Eval(Script::kLeaseRelease, {lease}, {config_.worker_id})}});
  }
  goodbye.push_back(
      {members_key_,
       {redis_->Eval(
           Script::kHeartbeat, {members_key_},
           {config_.worker_id, std::to_string(absl::ToInt64Milliseconds(config_.lease)), "1"})}});
  // Best effort: leases expire anyway.
  (void)redis_->Run(goodbye);
  for (int p : owned) {
    partitions_[p] = Partition{};
    cache_.ErasePartition(p);
    metrics_->partition[p].owned->Set(0);
  }
  LogInfo("leases_released", {{"partitions", static_cast<int64_t>(owned.size())}});
}

}  // namespace alliance::worker
