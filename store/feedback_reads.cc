// The worker group's reads of the feedback streams (see feedback_reads.h).
#include "store/feedback_reads.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "store/script_call.h"
#include "store/windowed_pipeline.h"

namespace alliance {
namespace {

constexpr size_t kCountWindow = 256;  // XPENDING commands in flight

absl::Status Unexpected(std::string_view what) {
  return absl::InternalError(absl::StrCat("unexpected ", Absl(what), " reply"));
}

// The id of an XREVRANGE ... COUNT 1 reply, "0-0" when the stream is empty.
absl::StatusOr<std::string> LastId(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY) return Unexpected("XREVRANGE");
  if (reply.elements == 0) return std::string("0-0");
  const redisReply& entry = *reply.element[0];
  if (entry.type != REDIS_REPLY_ARRAY || entry.elements == 0 ||
      entry.element[0]->type != REDIS_REPLY_STRING) {
    return Unexpected("XREVRANGE");
  }
  return std::string(ReplyString(*entry.element[0]));
}

// The erasure counter as GET or the script returns it ("0" when unset).
std::string Erasures(const redisReply& reply) {
  return reply.type == REDIS_REPLY_STRING ? std::string(ReplyString(reply)) : std::string(1, '0');
}

absl::StatusOr<FencedFeedbackRead> DecodeScriptRead(const redisReply& r) {
  if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
  FencedFeedbackRead out;
  if (r.type == REDIS_REPLY_INTEGER) {
    out.outcome = FencedFeedbackRead::Outcome::kLeaseLost;
    return out;
  }
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || r.element[0]->type != REDIS_REPLY_INTEGER) {
    return Unexpected("fenced read");
  }
  out.erasures = Erasures(*r.element[2]);
  if (r.element[0]->integer == 0) {  // nothing new: the stream's last entry
    absl::StatusOr<std::string> last = LastId(*r.element[1]);
    if (!last.ok()) return last.status();
    out.last_id = *std::move(last);
    return out;
  }
  absl::StatusOr<std::vector<StreamEntry>> entries = ParseEntries(*r.element[1]);
  if (!entries.ok()) return entries.status();
  out.entries = *std::move(entries);
  return out;
}

}  // namespace

absl::Status CreateWorkerGroups(RedisExecutor& redis, const KeyLayout& layout) {
  const std::string group(kWorkerGroup);
  std::vector<std::string> streams;
  for (int p = 0; p < layout.partitions(); ++p) streams.push_back(layout.FeedbackStream(p));
  std::vector<SlotCommand> creates;
  for (const std::string& stream : streams) {
    creates.push_back({redis.SlotOf(stream), {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"}});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(creates);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (reply->type == REDIS_REPLY_ERROR &&
        !absl::StartsWith(Absl(ReplyString(*reply)), "BUSYGROUP")) {
      return ReplyStatus(*reply);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FencedFeedbackRead>> ReadFencedByScript(
    RedisExecutor& redis, const ScriptShas& scripts, const KeyLayout& layout,
    const FeedbackReader& reader, std::span<const FeedbackReadRequest> requests) {
  const std::string group(kWorkerGroup), count = std::to_string(reader.count);
  ScriptCalls calls(redis, scripts);
  for (const FeedbackReadRequest& request : requests) {
    const int p = request.partition;
    calls.Add(Script::kFencedRead,
              {layout.Lease(p), layout.FeedbackStream(p), layout.ErasureCount(p)},
              {std::string(reader.worker_id), group, count, request.from});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
  if (!replies.ok()) return replies.status();
  std::vector<FencedFeedbackRead> out;
  out.reserve(requests.size());
  for (const RedisReplyPtr& reply : *replies) {
    absl::StatusOr<FencedFeedbackRead> read = DecodeScriptRead(*reply);
    if (!read.ok()) return read.status();
    out.push_back(*std::move(read));
  }
  return out;
}

namespace {

// The transactions of ReadFencedByTransaction, read reply by reply; on any failure the
// replies still owed are read and dropped before the error is returned.
class TransactionReads {
 public:
  TransactionReads(RedisConnection& redis, const KeyLayout& layout, const FeedbackReader& reader)
      : redis_(redis), layout_(layout), reader_(reader), count_(std::to_string(reader.count)) {}

  absl::StatusOr<std::vector<FencedFeedbackRead>> Run(
      std::span<const FeedbackReadRequest> requests) {
    std::vector<FencedFeedbackRead> out;
    absl::Status s = Chain(requests, out);
    if (s.ok()) return out;
    if (!redis_.broken()) (void)redis_.DiscardPendingReplies();
    return s;
  }

 private:
  void Watch(int p) {
    std::string lease = layout_.Lease(p);
    redis_.Append({"WATCH", lease});
    redis_.Append({"GET", lease});
  }

  absl::StatusOr<RedisReplyPtr> Next() {
    absl::StatusOr<RedisReplyPtr> reply = redis_.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    return reply;
  }

  absl::Status Chain(std::span<const FeedbackReadRequest> requests,
                     std::vector<FencedFeedbackRead>& out) {
    if (requests.empty()) return absl::OkStatus();
    const std::string group(kWorkerGroup);
    Watch(requests[0].partition);
    for (size_t t = 0; t < requests.size(); ++t) {
      const int p = requests[t].partition;
      const bool pending = requests[t].from != ">";
      if (absl::StatusOr<RedisReplyPtr> watched = Next(); !watched.ok()) return watched.status();
      absl::StatusOr<RedisReplyPtr> owner = Next();
      if (!owner.ok()) return owner.status();
      const bool ours =
          (*owner)->type == REDIS_REPLY_STRING && ReplyString(**owner) == reader_.worker_id;
      const std::string stream = layout_.FeedbackStream(p);
      if (ours) {
        redis_.Append({"MULTI"});
        redis_.Append({"XREADGROUP", "GROUP", group, reader_.worker_id, "COUNT", count_, "STREAMS",
                       stream, requests[t].from});
        redis_.Append({"GET", layout_.ErasureCount(p)});
        if (!pending) redis_.Append({"XREVRANGE", stream, "+", "-", "COUNT", "1"});
        redis_.Append({"EXEC"});
      } else {
        redis_.Append({"UNWATCH"});
      }
      if (t + 1 < requests.size()) Watch(requests[t + 1].partition);
      FencedFeedbackRead& read = out.emplace_back();
      if (!ours) {
        if (absl::StatusOr<RedisReplyPtr> r = Next(); !r.ok()) return r.status();
        read.outcome = FencedFeedbackRead::Outcome::kLeaseLost;
        continue;
      }
      const size_t queued = pending ? 2 : 3;
      for (size_t i = 0; i <= queued; ++i) {  // MULTI's OK, then QUEUED per command
        if (absl::StatusOr<RedisReplyPtr> r = Next(); !r.ok()) return r.status();
      }
      absl::StatusOr<RedisReplyPtr> exec = Next();
      if (!exec.ok()) return exec.status();
      const redisReply& r = **exec;
      // The lease was touched meanwhile: nothing was read; the next round looks again.
      if (r.type == REDIS_REPLY_NIL) {
        read.outcome = FencedFeedbackRead::Outcome::kInterrupted;
        continue;
      }
      if (r.type != REDIS_REPLY_ARRAY || r.elements != queued) return Unexpected("fenced read");
      for (size_t i = 0; i < queued; ++i) {
        if (absl::Status s = ReplyStatus(*r.element[i]); !s.ok()) return s;
      }
      const redisReply& xread = *r.element[0];
      read.erasures = Erasures(*r.element[1]);
      if (xread.type == REDIS_REPLY_ARRAY && xread.elements == 1 &&
          xread.element[0]->type == REDIS_REPLY_ARRAY && xread.element[0]->elements == 2) {
        absl::StatusOr<std::vector<StreamEntry>> parsed =
            ParseEntries(*xread.element[0]->element[1]);
        if (!parsed.ok()) return parsed.status();
        read.entries = *std::move(parsed);
      } else if (xread.type != REDIS_REPLY_NIL) {
        return Unexpected("XREADGROUP");
      }
      if (!pending && read.entries.empty()) {
        absl::StatusOr<std::string> last = LastId(*r.element[2]);
        if (!last.ok()) return last.status();
        read.last_id = *std::move(last);
      }
    }
    return absl::OkStatus();
  }

  RedisConnection& redis_;
  const KeyLayout& layout_;
  const FeedbackReader& reader_;
  const std::string count_;
};

}  // namespace

absl::StatusOr<std::vector<FencedFeedbackRead>> ReadFencedByTransaction(
    RedisConnection& redis, const KeyLayout& layout, const FeedbackReader& reader,
    std::span<const FeedbackReadRequest> requests) {
  return TransactionReads(redis, layout, reader).Run(requests);
}

absl::StatusOr<ClaimResult> ClaimPendingEntries(RedisExecutor& redis, const ScriptShas& scripts,
                                                const KeyLayout& layout, std::string_view worker_id,
                                                int partition, absl::Duration min_idle) {
  const std::string group(kWorkerGroup);
  const std::string lease = layout.Lease(partition), stream = layout.FeedbackStream(partition);
  const std::string idle = std::to_string(absl::ToInt64Milliseconds(min_idle));
  std::string cursor = "0-0";
  ClaimResult out;
  // Bounded: 10,000 pages of 1,000 entries.
  for (int page = 0; page < 10000; ++page) {
    ScriptCalls calls(redis, scripts);
    calls.Add(Script::kFencedClaim, {lease, stream},
              {std::string(worker_id), group, idle, cursor, "1000"});
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = calls.Run();
    if (!replies.ok()) return replies.status();
    const redisReply& r = *replies->front();
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_INTEGER) {
      out.lease_lost = true;
      return out;
    }
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 2 ||
        r.element[0]->type != REDIS_REPLY_STRING || r.element[1]->type != REDIS_REPLY_INTEGER) {
      return Unexpected("claim");
    }
    if (r.element[1]->integer > 0) out.claimed_any = true;
    cursor = std::string(ReplyString(*r.element[0]));
    if (cursor == "0-0") break;
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> DeliveryCounts(RedisExecutor& redis, const KeyLayout& layout,
                                                    std::span<const PendingEntryRef> entries) {
  std::vector<int64_t> out(entries.size(), 0);
  const std::string group(kWorkerGroup);
  absl::Status s = RunWindowed(
      redis, entries.size(), kCountWindow,
      [&](size_t i, KeyedCommand& command) {
        command.key = layout.FeedbackStream(entries[i].partition);
        const std::string id(entries[i].id);
        command.args = {"XPENDING", command.key, group, id, id, "1"};
      },
      [&](size_t i, const redisReply& r) -> absl::Status {
        if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
        if (r.type != REDIS_REPLY_ARRAY) return Unexpected("XPENDING");
        // [[id, consumer, idle ms, deliveries]], or nothing when no longer pending.
        if (r.elements == 1 && r.element[0]->type == REDIS_REPLY_ARRAY &&
            r.element[0]->elements == 4 && r.element[0]->element[3]->type == REDIS_REPLY_INTEGER) {
          out[i] = r.element[0]->element[3]->integer;
        }
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

absl::Status WaitForNewEntries(RedisConnection& redis, const KeyLayout& layout,
                               std::span<const StreamPosition> positions, absl::Duration block) {
  std::vector<std::string> streams;
  for (const StreamPosition& at : positions) streams.push_back(layout.FeedbackStream(at.partition));
  const std::string block_ms = std::to_string(absl::ToInt64Milliseconds(block));
  std::vector<std::string_view> args = {"XREAD", "COUNT", "1", "BLOCK", block_ms, "STREAMS"};
  for (const std::string& stream : streams) args.push_back(stream);
  for (const StreamPosition& at : positions) args.push_back(at.last_id);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(args);
  if (!reply.ok()) return reply.status();
  return ReplyStatus(**reply);
}

}  // namespace alliance
