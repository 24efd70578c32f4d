// The worker's side of disengagement (analytics/disengagement.h): the open episode read back
// from a dyad's raised alerts, and the timer index's member and score.
#ifndef ALLIANCE_WORKER_ENGAGEMENT_H_
#define ALLIANCE_WORKER_ENGAGEMENT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "alliance/v1/common.pb.h"
#include "analytics/disengagement.h"
#include "analytics/dyad_analysis.h"

namespace alliance::worker {

// Follows the alerts of a record in the order they were raised: a disengagement opens an
// episode, its reengaged event closes it.
void FollowEngagement(const alliance::v1::Alert& alert,
                      std::optional<analytics::OpenDisengagement>* open);

// The disengagement watch's member of a dyad (store/disengagement_watch.h).
std::string WatchMember(const analytics::DyadKey& dyad);
std::optional<analytics::DyadKey> ParseWatchMember(std::string_view member);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_ENGAGEMENT_H_
