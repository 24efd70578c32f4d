// One catch-up read of an alert watcher; see watch_catchup.h.
#include "services/insights/watch_catchup.h"

#include <algorithm>
#include <vector>

namespace alliance::insights {

absl::StatusOr<AlertRangeEntries> ReadCatchUpStep(RedisExecutor& redis, const KeyLayout& layout,
                                                  const Positions& from, const Positions& to,
                                                  size_t room, const AlertFilter& filter) {
  std::vector<AlertRange> behind;
  for (size_t p = 0; p < from.size() && p < to.size(); ++p) {
    if (from[p] < to[p]) behind.push_back({static_cast<int>(p), from[p], to[p]});
  }
  const size_t per = std::max<size_t>(1, room / std::max<size_t>(1, behind.size()));
  // On a cluster each partition's range goes to its primary; every reply is read, error
  // replies included, so the connection stays in step.
  absl::StatusOr<AlertRangeEntries> read = ReadAlertRanges(redis, layout, behind, per);
  if (!read.ok()) return read.status();
  for (const auto& entry : read->entries) {
    if (filter.MatchesHeader(*entry)) ParseAlertBody(entry.get());
  }
  return read;
}

}  // namespace alliance::insights
