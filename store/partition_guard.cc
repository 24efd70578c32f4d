// The partition count guard; see partition_guard.h.
#include "store/partition_guard.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "store/cluster_slot.h"

namespace alliance {

namespace {

// Compares the replies of SET NX and GET of the partition count key with the layout's count.
absl::Status CompareRecorded(const std::vector<RedisReplyPtr>& replies, const KeyLayout& layout) {
  const std::string key = layout.PartitionCount();
  for (const RedisReplyPtr& reply : replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  }
  const redisReply& recorded = *replies[1];
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

}  // namespace

absl::Status CheckPartitionCount(RedisConnection& redis, const KeyLayout& layout) {
  const std::string key = layout.PartitionCount();
  const std::string mine = std::to_string(layout.partitions());
  redis.Append({"SET", key, mine, "NX"});
  redis.Append({"GET", key});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(2);
  if (!replies.ok()) return replies.status();
  return CompareRecorded(*replies, layout);
}

absl::Status CheckPartitionCount(ClusterClient& cluster, const KeyLayout& layout) {
  const std::string key = layout.PartitionCount();
  const std::string mine = std::to_string(layout.partitions());
  const std::vector<CommandArgs> commands = {{"SET", key, mine, "NX"}, {"GET", key}};
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = cluster.Exchange(KeySlot(key), commands);
  if (!replies.ok()) return replies.status();
  return CompareRecorded(*replies, layout);
}

absl::Status CheckPartitionCountAtStart(const RedisTarget& target, const KeyLayout& layout) {
  absl::Status s;
  if (target.cluster) {
    absl::StatusOr<std::unique_ptr<ClusterClient>> cluster =
        ClusterClient::Connect(*target.cluster);
    if (!cluster.ok()) return absl::OkStatus();  // checked again at every connection
    s = CheckPartitionCount(**cluster, layout);
  } else {
    absl::StatusOr<std::unique_ptr<RedisConnection>> redis =
        RedisConnection::Connect(target.single);
    if (!redis.ok()) return absl::OkStatus();  // checked again at every connection
    s = CheckPartitionCount(**redis, layout);
  }
  if (absl::IsUnavailable(s)) return absl::OkStatus();
  return s;
}

}  // namespace alliance
