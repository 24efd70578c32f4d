// Open disengagement episodes from stored alerts, and the timer index's members
// (engagement.h).
#include "worker/engagement.h"

#include "google/protobuf/util/time_util.h"
#include "store/disengagement_watch.h"

namespace alliance::worker {

void FollowEngagement(const alliance::v1::Alert& alert,
                      std::optional<analytics::OpenDisengagement>* open) {
  if (alert.kind() == alliance::v1::ALERT_KIND_DISENGAGEMENT) {
    *open = analytics::OpenDisengagement{
        alert.alert_id(), static_cast<analytics::Reason>(alert.reason()),
        static_cast<int>(alert.evidence().before()),
        google::protobuf::util::TimeUtil::TimestampToMilliseconds(alert.session_time())};
  } else if (alert.kind() == alliance::v1::ALERT_KIND_REENGAGED && open->has_value() &&
             (*open)->episode_id == alert.episode_id()) {
    open->reset();
  }
}

std::string WatchMember(const analytics::DyadKey& dyad) {
  return DisengagementWatchMember(dyad.tenant_id, dyad.therapist_id, dyad.client_id);
}

std::optional<analytics::DyadKey> ParseWatchMember(std::string_view member) {
  std::optional<WatchedDyad> parsed = ParseDisengagementWatchMember(member);
  if (!parsed.has_value()) return std::nullopt;
  return analytics::DyadKey{std::move(parsed->tenant), std::move(parsed->therapist),
                            std::move(parsed->client)};
}

}  // namespace alliance::worker
