// Parking, listing and replaying dead letters (see dead_letters.h).
#include "store/dead_letters.h"

#include "absl/strings/str_cat.h"
#include "store/script_call.h"

namespace alliance {
namespace {

// An XRANGE / XREVRANGE reply's entries, checked for shape.
absl::StatusOr<std::vector<StreamEntry>> Range(RedisExecutor& redis, const std::string& stream,
                                               const CommandArgs& args) {
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(stream), args);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  return ParseEntries(**reply);
}

}  // namespace

FencedWrite ParkDeadLetter(const KeyLayout& layout, int partition, std::string_view worker_id,
                           const StreamEntry& entry, std::string_view reason, int64_t attempts,
                           size_t tag) {
  FencedWrite write;
  write.script = Script::kDeadLetter;
  write.partition = partition;
  write.keys = {layout.Lease(partition), layout.DeadLetterStream(partition),
                layout.FeedbackStream(partition)};
  write.args = {std::string(worker_id), std::string(kWorkerGroup), entry.id, std::string(reason),
                std::to_string(attempts)};
  for (const auto& [k, v] : entry.fields) {
    write.args.push_back(k);
    write.args.push_back(v);
  }
  write.tag = tag;
  return write;
}

absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(RedisExecutor& redis,
                                                        const KeyLayout& layout, int partition,
                                                        int64_t limit) {
  const std::string dead = layout.DeadLetterStream(partition), count = absl::StrCat(limit);
  absl::StatusOr<std::vector<StreamEntry>> entries =
      Range(redis, dead, {"XRANGE", dead, "-", "+", "COUNT", count});
  if (!entries.ok()) return entries.status();
  std::vector<DeadLetter> out;
  for (const StreamEntry& entry : *entries) {
    absl::StatusOr<DeadLetter> letter = ParseDeadLetter(entry);
    if (!letter.ok()) return letter.status();
    out.push_back(*std::move(letter));
  }
  return out;
}

absl::StatusOr<int64_t> ReplayDeadLetters(RedisExecutor& redis, const ScriptShas& scripts,
                                          const KeyLayout& layout, int partition) {
  int64_t moved = 0;
  for (int p = 0; p < layout.partitions(); ++p) {
    if (partition >= 0 && p != partition) continue;
    std::string dead = layout.DeadLetterStream(p), feedback = layout.FeedbackStream(p);
    // Only the dead letters present now: a running worker parks a replayed entry that is
    // still poison again, with a newer id, and replaying that one too would loop.
    absl::StatusOr<std::vector<StreamEntry>> last =
        Range(redis, dead, {"XREVRANGE", dead, "+", "-", "COUNT", "1"});
    if (!last.ok()) return last.status();
    if (last->empty()) continue;
    const std::string end = last->front().id;
    // Pages of ids; each move deletes the entry, so every page starts from the beginning.
    // Bounded: 100,000 pages of 500.
    for (int page = 0; page < 100000; ++page) {
      absl::StatusOr<std::vector<StreamEntry>> range =
          Range(redis, dead, {"XRANGE", dead, "-", end, "COUNT", "500"});
      if (!range.ok()) return range.status();
      if (range->empty()) break;
      // Both streams carry the partition's hash tag: one exchange with its slot.
      ScriptCalls moves(redis, scripts);
      for (const StreamEntry& entry : *range) {
        moves.Add(Script::kReplayDeadLetter, {dead, feedback}, {entry.id});
      }
      absl::StatusOr<std::vector<RedisReplyPtr>> replies = moves.Run();
      if (!replies.ok()) return replies.status();
      for (const RedisReplyPtr& reply : *replies) {
        if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
        if (reply->type != REDIS_REPLY_INTEGER) {
          return absl::InternalError("unexpected replay_dead_letter.lua reply");
        }
        moved += reply->integer;
      }
    }
  }
  return moved;
}

}  // namespace alliance
