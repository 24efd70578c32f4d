// The disengagement watch of a partition (KeyLayout::DisengagementWatch): a sorted set of the
// dyads whose no-rating-during-rupture trigger (analytics/disengagement.h) can fire, scored by
// the Unix ms at which it becomes due. The worker's apply script adds, re-scores and removes
// members in the same fenced write as the dyad record (store/batch_apply.h); the maintenance
// loop reads the due ones, a bounded number per partition and round; DeleteClientData removes
// the client's members with its records.
#ifndef ALLIANCE_STORE_DISENGAGEMENT_WATCH_H_
#define ALLIANCE_STORE_DISENGAGEMENT_WATCH_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

// The member of a dyad: tenant and therapist ids each prefixed by its length and ':', then the
// client id, so any ids read back unambiguously.
std::string DisengagementWatchMember(std::string_view tenant, std::string_view therapist,
                                     std::string_view client);

struct WatchedDyad {
  std::string tenant, therapist, client;
};
std::optional<WatchedDyad> ParseDisengagementWatchMember(std::string_view member);

// Per partition of `partitions`, up to `limit` members whose score is at most `now_ms`, the
// earliest first (one pipeline: ZRANGEBYSCORE ... LIMIT 0 limit).
absl::StatusOr<std::vector<std::vector<std::string>>> DueDisengagements(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const int> partitions, int64_t now_ms,
    int limit);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DISENGAGEMENT_WATCH_H_
