// Open disengagement episodes from stored alerts, and the timer index's members
// (engagement.h).
#include "worker/engagement.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "google/protobuf/util/time_util.h"

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
  return absl::StrCat(dyad.tenant_id.size(), ":", Absl(dyad.tenant_id), dyad.therapist_id.size(),
                      ":", Absl(dyad.therapist_id), Absl(dyad.client_id));
}

std::optional<analytics::DyadKey> ParseWatchMember(std::string_view member) {
  analytics::DyadKey key;
  std::string* parts[2] = {&key.tenant_id, &key.therapist_id};
  for (std::string* part : parts) {
    size_t colon = member.find(':');
    size_t length = 0;
    if (colon == std::string_view::npos ||
        !absl::SimpleAtoi(Absl(member.substr(0, colon)), &length) ||
        member.size() - colon - 1 < length) {
      return std::nullopt;
    }
    *part = std::string(member.substr(colon + 1, length));
    member.remove_prefix(colon + 1 + length);
  }
  key.client_id = std::string(member);
  return key;
}

}  // namespace alliance::worker
