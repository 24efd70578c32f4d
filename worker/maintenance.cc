// Periodic work of the partitions a worker owns: lag / pending / length metrics, retention, and
// the removal of other workers' idle consumers that hold nothing (a worker restarted under a
// new id would otherwise leave one consumer per partition behind, forever).
// Retention trims with XTRIM MINID, never above the oldest entry the group still needs: the
// oldest pending entry, or, with nothing pending, the group's last-delivered id (everything
// before it was delivered and acknowledged). Within that bound, acknowledged entries are kept
// for --retain_ms unless the stream is longer than --max_stream_length.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "worker/worker.h"

namespace alliance::worker {
namespace {

using StreamId = std::pair<uint64_t, uint64_t>;

bool ParseId(std::string_view text, StreamId* id) {
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(text), '-');
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], &id->first) &&
         absl::SimpleAtoi(parts[1], &id->second);
}

struct GroupInfo {
  bool found = false;
  int64_t lag = -1;  // -1: Redis cannot tell
  int64_t pending = 0;
  std::string last_delivered = "0-0";
};

// XINFO GROUPS reply (RESP2: one flat field/value array per group).
GroupInfo FindGroup(const redisReply& reply, std::string_view name) {
  GroupInfo info;
  if (reply.type != REDIS_REPLY_ARRAY) return info;
  for (size_t g = 0; g < reply.elements; ++g) {
    const redisReply* group = reply.element[g];
    GroupInfo candidate;
    bool match = false;
    for (size_t i = 0; i + 1 < group->elements; i += 2) {
      std::string_view field = ReplyString(*group->element[i]);
      const redisReply* v = group->element[i + 1];
      if (field == "name") match = ReplyString(*v) == name;
      if (field == "pending") candidate.pending = v->integer;
      if (field == "last-delivered-id") candidate.last_delivered = std::string(ReplyString(*v));
      if (field == "lag" && v->type == REDIS_REPLY_INTEGER) candidate.lag = v->integer;
    }
    if (match) {
      candidate.found = true;
      return candidate;
    }
  }
  return info;
}

}  // namespace

absl::Status Worker::Maintenance() {
  absl::Time now = absl::Now();
  double applied = metrics_->ratings_applied->Value();
  double seconds = absl::ToDoubleSeconds(now - last_rate_time_);
  if (seconds > 0) metrics_->ratings_per_second->Set((applied - applied_at_last_rate_) / seconds);
  metrics_->dyad_cache_entries->Set(static_cast<double>(cache_.size()));
  applied_at_last_rate_ = applied;
  last_rate_time_ = now;

  const std::string group(kWorkerGroup);
  std::vector<int> owned = OwnedPartitions();
  std::vector<CommandGroup> probes;
  for (int p : owned) {
    std::string stream = layout_.FeedbackStream(p);
    probes.push_back({stream,
                      {{"XINFO", "GROUPS", stream},
                       {"XPENDING", stream, group},
                       {"XLEN", stream},
                       {"XLEN", layout_.DeadLetterStream(p)}}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> probed = redis_->Run(probes);
  if (!probed.ok()) return probed.status();
  struct Trim {
    int partition;
    std::string min_id;
  };
  std::vector<Trim> trims;
  for (size_t o = 0; o < owned.size(); ++o) {
    const int p = owned[o];
    const std::vector<RedisReplyPtr>& replies = (*probed)[o];
    for (const RedisReplyPtr& r : replies) {
      if (absl::Status s = ReplyStatus(*r); !s.ok()) return s;
    }
    GroupInfo info = FindGroup(*replies[0], group);
    const redisReply& pending = *replies[1];
    int64_t length = replies[2]->integer;
    PartitionMetrics& m = metrics_->partition[p];
    m.lag->Set(static_cast<double>(info.lag));
    m.pending->Set(static_cast<double>(info.pending));
    m.stream_length->Set(static_cast<double>(length));
    m.dead_letter_length->Set(static_cast<double>(replies[3]->integer));
    bool alarm = config_.max_stream_length > 0 &&
                 std::max<int64_t>(info.lag, 0) + info.pending > config_.max_stream_length;
    m.backlog_alarm->Set(alarm ? 1 : 0);

    if (!info.found) continue;
    // The oldest entry the group still needs.
    StreamId safe;
    if (info.pending > 0) {
      if (pending.type != REDIS_REPLY_ARRAY || pending.elements < 2 ||
          !ParseId(ReplyString(*pending.element[1]), &safe)) {
        continue;
      }
    } else if (!ParseId(info.last_delivered, &safe)) {
      continue;
    }
    StreamId target = safe;
    bool over_length = config_.max_stream_length > 0 && length > config_.max_stream_length;
    if (!over_length) {
      int64_t keep_from_ms = absl::ToUnixMillis(now - config_.retain);
      StreamId by_age{static_cast<uint64_t>(std::max<int64_t>(keep_from_ms, 0)), 0};
      target = std::min(safe, by_age);
    }
    if (target == StreamId{0, 0}) continue;
    trims.push_back({p, absl::StrCat(target.first, "-", target.second)});
  }
  // "~" lets Redis drop only whole internal nodes: cheap, and it never removes an entry at or
  // above MINID.
  std::vector<CommandGroup> trim_commands;
  for (const Trim& t : trims) {
    std::string stream = layout_.FeedbackStream(t.partition);
    trim_commands.push_back({stream, {{"XTRIM", stream, "MINID", "~", t.min_id}}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> trimmed = redis_->Run(trim_commands);
  if (!trimmed.ok()) return trimmed.status();
  for (size_t i = 0; i < trims.size(); ++i) {
    const redisReply& reply = *(*trimmed)[i][0];
    if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
    if (reply.integer > 0) metrics_->partition[trims[i].partition].trimmed->Increment();
  }
  if (absl::Status s = TrimDerivedByAge(owned, now); !s.ok()) return s;
  if (config_.consumer_retire > absl::ZeroDuration() && now >= next_consumer_sweep_) {
    if (absl::Status s = RetireIdleConsumers(owned); !s.ok()) return s;
    // A quarter of the idle threshold, at most a minute, never more often than maintenance.
    next_consumer_sweep_ = now + std::max(config_.maintenance_interval,
                                          std::min(config_.consumer_retire / 4, absl::Minutes(1)));
  }
  return absl::OkStatus();
}

absl::Status Worker::RetireIdleConsumers(const std::vector<int>& owned) {
  // Bounds the script's work per partition and sweep; a longer list shrinks sweep by sweep.
  constexpr int kMaxPerSweep = 100;
  const std::string idle_ms = std::to_string(absl::ToInt64Milliseconds(config_.consumer_retire));
  const std::string limit = std::to_string(kMaxPerSweep);
  std::vector<CommandGroup> sweeps;
  for (int p : owned) {
    std::string lease = layout_.Lease(p);
    sweeps.push_back(
        {lease,
         {redis_->Eval(Script::kRetireConsumers, {lease, layout_.FeedbackStream(p)},
                       {config_.worker_id, std::string(kWorkerGroup), idle_ms, limit})}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> swept = redis_->Run(sweeps);
  if (!swept.ok()) return swept.status();
  for (size_t i = 0; i < owned.size(); ++i) {
    const int p = owned[i];
    const redisReply& reply = *(*swept)[i][0];
    if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
    // -1: the lease moved on; the next lease round notices.
    if (reply.type != REDIS_REPLY_INTEGER || reply.integer <= 0) continue;
    metrics_->consumers_retired->Increment(static_cast<double>(reply.integer));
    LogInfo("consumers_retired",
            {{"partition", int64_t{p}}, {"count", static_cast<int64_t>(reply.integer)}});
  }
  return absl::OkStatus();
}

absl::Status Worker::TrimDerivedByAge(const std::vector<int>& owned, absl::Time now) {
  if (config_.data_retention <= absl::ZeroDuration()) return absl::OkStatus();
  // Alert and dead-letter entries older than the retention window (nobody consumes these
  // streams as a group, so age is the only bound).
  std::string min_id =
      absl::StrCat(std::max<int64_t>(absl::ToUnixMillis(now - config_.data_retention), 0), "-0");
  std::vector<CommandGroup> trims;
  for (int p : owned) {
    // Exact (no "~"): the cost is the entries removed, and nothing older than the window stays.
    std::string alerts = layout_.AlertStream(p);
    trims.push_back({alerts,
                     {{"XTRIM", alerts, "MINID", min_id},
                      {"XTRIM", layout_.DeadLetterStream(p), "MINID", min_id}}});
  }
  absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> trimmed = redis_->Run(trims);
  if (!trimmed.ok()) return trimmed.status();
  for (const std::vector<RedisReplyPtr>& replies : *trimmed) {
    for (const RedisReplyPtr& reply : replies) {
      if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace alliance::worker
