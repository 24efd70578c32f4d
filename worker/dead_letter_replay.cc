// Dead-letter replay (see dead_letter_replay.h).
#include "worker/dead_letter_replay.h"

#include <string>
#include <vector>

#include "store/lua_scripts.h"

namespace alliance::worker {

absl::StatusOr<int64_t> ReplayDeadLetters(WorkerRedis& redis, const KeyLayout& layout,
                                          int partition) {
  int64_t moved = 0;
  for (int p = 0; p < layout.partitions(); ++p) {
    if (partition >= 0 && p != partition) continue;
    std::string dead = layout.DeadLetterStream(p), feedback = layout.FeedbackStream(p);
    // Only the dead letters present now: a running worker parks a replayed entry that is
    // still poison again, with a newer id, and replaying that one too would loop.
    absl::StatusOr<RedisReplyPtr> last =
        redis.Command(dead, {"XREVRANGE", dead, "+", "-", "COUNT", "1"});
    if (!last.ok()) return last.status();
    if (absl::Status s = ReplyStatus(**last); !s.ok()) return s;
    if ((*last)->elements == 0) continue;
    const std::string end(ReplyString(*(*last)->element[0]->element[0]));
    // Pages of ids; each move deletes the entry, so every page starts from the beginning.
    // Bounded: 100,000 pages of 500.
    for (int page = 0; page < 100000; ++page) {
      absl::StatusOr<RedisReplyPtr> range =
          redis.Command(dead, {"XRANGE", dead, "-", end, "COUNT", "500"});
      if (!range.ok()) return range.status();
      if (absl::Status s = ReplyStatus(**range); !s.ok()) return s;
      const redisReply& r = **range;
      if (r.elements == 0) break;
      std::vector<std::string> ids;
      for (size_t i = 0; i < r.elements; ++i)
        ids.emplace_back(ReplyString(*r.element[i]->element[0]));
      // Both streams carry the partition's hash tag: one exchange with its slot.
      std::vector<CommandGroup> moves = {{dead, {}}};
      for (const std::string& id : ids) {
        moves[0].commands.push_back(redis.Eval(Script::kReplayDeadLetter, {dead, feedback}, {id}));
      }
      absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> replies = redis.Run(moves);
      if (!replies.ok()) return replies.status();
      for (const RedisReplyPtr& reply : (*replies)[0]) {
        if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
        moved += reply->integer;
      }
    }
  }
  return moved;
}

}  // namespace alliance::worker
