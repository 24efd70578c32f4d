// The partition count guard; see partition_guard.h.
#include "store/partition_guard.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance {

absl::Status CheckPartitionCount(RedisConnection& redis, const KeyLayout& layout) {
  const std::string key = layout.PartitionCount();
  const std::string mine = std::to_string(layout.partitions());
  redis.Append({"SET", key, mine, "NX"});
  redis.Append({"GET", key});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(2);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  }
  const redisReply& recorded = *(*replies)[1];
  int recorded_count = 0;
  if (recorded.type != REDIS_REPLY_STRING ||
      !absl::SimpleAtoi(Absl(ReplyString(recorded)), &recorded_count) || recorded_count < 1) {
    return absl::InternalError(absl::StrCat("redis key ", key, " does not hold a partition count"));
  }
  if (recorded_count != layout.partitions()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this deployment's Redis was created with ", recorded_count, " partitions (key ", key,
        ") but this process was started with --partitions=", layout.partitions(),
        ": every process must use --partitions=", recorded_count,
        "; changing the count is a migration (docs/scaling.md)"));
  }
  return absl::OkStatus();
}

absl::Status CheckPartitionCountAtStart(const RedisEndpoint& endpoint, const KeyLayout& layout) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> redis = RedisConnection::Connect(endpoint);
  if (!redis.ok()) return absl::OkStatus();  // checked again at every connection
  absl::Status s = CheckPartitionCount(**redis, layout);
  if (absl::IsUnavailable(s)) return absl::OkStatus();
  return s;
}

}  // namespace alliance
