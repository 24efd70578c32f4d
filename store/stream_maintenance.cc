// Stream upkeep of owned partitions (see stream_maintenance.h).
#include "store/stream_maintenance.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "store/script_call.h"

namespace alliance {
namespace {

absl::Status Unexpected(std::string_view what) {
  return absl::InternalError(absl::StrCat("unexpected ", Absl(what), " reply"));
}

absl::StatusOr<int64_t> Integer(const redisReply& reply, std::string_view what) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_INTEGER) return Unexpected(what);
  return reply.integer;
}

// XINFO GROUPS reply (RESP2: one flat field/value array per group): the group named `name`.
absl::Status FindGroup(const redisReply& reply, std::string_view name, FeedbackStreamStats& out) {
  if (reply.type != REDIS_REPLY_ARRAY) return Unexpected("XINFO GROUPS");
  for (size_t g = 0; g < reply.elements; ++g) {
    const redisReply* group = reply.element[g];
    if (group->type != REDIS_REPLY_ARRAY) return Unexpected("XINFO GROUPS");
    FeedbackStreamStats candidate;
    bool match = false;
    for (size_t i = 0; i + 1 < group->elements; i += 2) {
      std::string_view field = ReplyString(*group->element[i]);
      const redisReply* v = group->element[i + 1];
      if (field == "name") match = ReplyString(*v) == name;
      if (field == "pending" && v->type == REDIS_REPLY_INTEGER) candidate.pending = v->integer;
      if (field == "last-delivered-id") candidate.last_delivered = std::string(ReplyString(*v));
      if (field == "lag" && v->type == REDIS_REPLY_INTEGER) candidate.lag = v->integer;
    }
    if (match) {
      out.group_found = true;
      out.lag = candidate.lag;
      out.pending = candidate.pending;
      out.last_delivered = std::move(candidate.last_delivered);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<FeedbackStreamStats>> ProbeFeedbackStreams(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const int> partitions) {
  const std::string group(kWorkerGroup);
  std::vector<std::string> streams, dead;
  for (int p : partitions) {
    streams.push_back(layout.FeedbackStream(p));
    dead.push_back(layout.DeadLetterStream(p));
  }
  std::vector<SlotCommand> probes;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const int slot = redis.SlotOf(streams[i]);
    probes.push_back({slot, {"XINFO", "GROUPS", streams[i]}});
    probes.push_back({slot, {"XPENDING", streams[i], group}});
    probes.push_back({slot, {"XLEN", streams[i]}});
    probes.push_back({slot, {"XLEN", dead[i]}});
  }
  std::vector<FeedbackStreamStats> out(partitions.size());
  if (probes.empty()) return out;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(probes);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < partitions.size(); ++i) {
    const RedisReplyPtr* r = &(*replies)[4 * i];
    for (size_t k = 0; k < 4; ++k) {
      if (absl::Status s = ReplyStatus(*r[k]); !s.ok()) return s;
    }
    FeedbackStreamStats& stats = out[i];
    if (absl::Status s = FindGroup(*r[0], group, stats); !s.ok()) return s;
    // XPENDING summary: [count, smallest id, greatest id, consumers].
    const redisReply& pending = *r[1];
    if (pending.type != REDIS_REPLY_ARRAY) return Unexpected("XPENDING");
    if (pending.elements >= 2 && pending.element[1]->type == REDIS_REPLY_STRING) {
      stats.oldest_pending = std::string(ReplyString(*pending.element[1]));
    }
    absl::StatusOr<int64_t> length = Integer(*r[2], "XLEN");
    if (!length.ok()) return length.status();
    stats.length = *length;
    absl::StatusOr<int64_t> dead_length = Integer(*r[3], "XLEN");
    if (!dead_length.ok()) return dead_length.status();
    stats.dead_letter_length = *dead_length;
  }
  return out;
}

absl::StatusOr<std::vector<bool>> TrimFeedbackStreams(RedisExecutor& redis, const KeyLayout& layout,
                                                      std::span<const StreamTrim> trims) {
  std::vector<std::string> streams;
  for (const StreamTrim& t : trims) streams.push_back(layout.FeedbackStream(t.partition));
  std::vector<SlotCommand> commands;
  for (size_t i = 0; i < trims.size(); ++i) {
    commands.push_back(
        {redis.SlotOf(streams[i]), {"XTRIM", streams[i], "MINID", "~", trims[i].min_id}});
  }
  std::vector<bool> out;
  if (commands.empty()) return out;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    absl::StatusOr<int64_t> n = Integer(*reply, "XTRIM");
    if (!n.ok()) return n.status();
    out.push_back(*n > 0);
  }
  return out;
}

absl::Status TrimDerivedStreams(RedisExecutor& redis, const KeyLayout& layout,
                                std::span<const int> partitions, std::string_view min_id) {
  std::vector<std::string> alerts, dead;
  for (int p : partitions) {
    alerts.push_back(layout.AlertStream(p));
    dead.push_back(layout.DeadLetterStream(p));
  }
  std::vector<SlotCommand> commands;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const int slot = redis.SlotOf(alerts[i]);
    commands.push_back({slot, {"XTRIM", alerts[i], "MINID", min_id}});
    commands.push_back({slot, {"XTRIM", dead[i], "MINID", min_id}});
  }
  if (commands.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::StatusOr<int64_t> n = Integer(*reply, "XTRIM"); !n.ok()) return n.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> RetireIdleConsumers(RedisExecutor& redis,
                                                         const ScriptShas& scripts,
                                                         const KeyLayout& layout,
                                                         std::string_view worker_id,
                                                         absl::Duration min_idle, int limit,
                                                         std::span<const int> partitions) {
  const std::string idle_ms = std::to_string(absl::ToInt64Milliseconds(min_idle));
  const std::string max = std::to_string(limit);
  ScriptCalls calls(redis, scripts);
  for (int p : partitions) {
    calls.Add(Script::kRetireConsumers, {layout.Lease(p), layout.FeedbackStream(p)},
              {std::string(worker_id), std::string(kWorkerGroup), idle_ms, max});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  std::vector<int64_t> out;
  for (const RedisReplyPtr& reply : *replies) {
    absl::StatusOr<int64_t> n = Integer(*reply, "retire_consumers.lua");
    if (!n.ok()) return n.status();
    out.push_back(*n);
  }
  return out;
}

}  // namespace alliance
