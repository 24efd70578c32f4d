// The disengagement watch's members and its due read (disengagement_watch.h).
#include "store/disengagement_watch.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance {

std::string DisengagementWatchMember(std::string_view tenant, std::string_view therapist,
                                     std::string_view client) {
  return absl::StrCat(tenant.size(), ":", Absl(tenant), therapist.size(), ":", Absl(therapist),
                      Absl(client));
}

std::optional<WatchedDyad> ParseDisengagementWatchMember(std::string_view member) {
  WatchedDyad dyad;
  for (std::string* part : {&dyad.tenant, &dyad.therapist}) {
    const size_t colon = member.find(':');
    size_t length = 0;
    if (colon == std::string_view::npos ||
        !absl::SimpleAtoi(Absl(member.substr(0, colon)), &length) ||
        member.size() - colon - 1 < length) {
      return std::nullopt;
    }
    *part = std::string(member.substr(colon + 1, length));
    member.remove_prefix(colon + 1 + length);
  }
  dyad.client = std::string(member);
  return dyad;
}

absl::StatusOr<std::vector<std::vector<std::string>>> DueDisengagements(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const int> partitions, int64_t now_ms,
    int limit) {
  std::vector<std::string> keys;
  keys.reserve(partitions.size());
  for (int p : partitions) keys.push_back(layout.DisengagementWatch(p));
  const std::string max = absl::StrCat(now_ms);
  const std::string count = absl::StrCat(limit);
  std::vector<SlotCommand> reads;
  for (const std::string& key : keys) {
    reads.push_back({redis.SlotOf(key), {"ZRANGEBYSCORE", key, "-inf", max, "LIMIT", "0", count}});
  }
  std::vector<std::vector<std::string>> out(partitions.size());
  if (reads.empty()) return out;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(reads);
  if (!replies.ok()) return replies.status();
  for (size_t i = 0; i < partitions.size(); ++i) {
    const redisReply& r = *(*replies)[i];
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type != REDIS_REPLY_ARRAY) {
      return absl::InternalError("ZRANGEBYSCORE of the disengagement watch: not an array");
    }
    for (size_t k = 0; k < r.elements; ++k) {
      if (r.element[k]->type != REDIS_REPLY_STRING) {
        return absl::InternalError("ZRANGEBYSCORE of the disengagement watch: not a string");
      }
      out[i].emplace_back(ReplyString(*r.element[k]));
    }
  }
  return out;
}

}  // namespace alliance
