// Alert status hash decoding; see alert_status_hash.h.
#include "store/alert_status_hash.h"

#include <google/protobuf/util/time_util.h>

#include <string>

namespace alliance {
namespace {

using google::protobuf::util::TimeUtil;

// False, leaving `out` as it was, for text that is not an RFC 3339 time.
bool SetTime(std::string_view text, google::protobuf::Timestamp* out) {
  google::protobuf::Timestamp parsed;
  if (!TimeUtil::FromString(std::string(text), &parsed)) return false;
  *out = parsed;
  return true;
}

absl::Time ToAbsl(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

absl::Status ApplyAlertStatusHash(const redisReply& reply, alliance::v1::Alert* alert,
                                  absl::Time now) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements % 2 != 0) {
    return absl::InternalError("alert status: the reply is not a hash");
  }
  for (size_t i = 0; i < reply.elements; ++i) {
    if (reply.element[i]->type != REDIS_REPLY_STRING) {
      return absl::InternalError("alert status: a hash field or value is not a string");
    }
  }
  alert->set_status(alliance::v1::ALERT_STATUS_OPEN);
  bool has_until = false;
  bool snooze_ended = false;
  for (size_t i = 0; i + 1 < reply.elements; i += 2) {
    std::string_view field = ReplyString(*reply.element[i]);
    std::string_view value = ReplyString(*reply.element[i + 1]);
    if (field == "status") {
      if (value == "acknowledged") alert->set_status(alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
      if (value == "resolved") alert->set_status(alliance::v1::ALERT_STATUS_RESOLVED);
    } else if (field == "acknowledged_by") {
      alert->set_acknowledged_by(std::string(value));
    } else if (field == "acknowledged_at") {
      SetTime(value, alert->mutable_acknowledged_at());
    } else if (field == "resolved_by") {
      alert->set_resolved_by(std::string(value));
    } else if (field == "resolved_at") {
      SetTime(value, alert->mutable_resolved_at());
    } else if (field == "snoozed_by") {
      alert->set_snoozed_by(std::string(value));
    } else if (field == "snoozed_at") {
      SetTime(value, alert->mutable_snoozed_at());
    } else if (field == "snoozed_until") {
      has_until = SetTime(value, alert->mutable_snoozed_until());
    } else if (field == "snooze_reason") {
      alert->set_snooze_reason(std::string(value));
    } else if (field == "snooze_ended_at") {
      snooze_ended = true;
    }
  }
  // Decided now rather than by a timer: an expired snooze needs no write to end.
  if (has_until && !snooze_ended && alert->status() != alliance::v1::ALERT_STATUS_RESOLVED &&
      now < ToAbsl(alert->snoozed_until())) {
    alert->set_status(alliance::v1::ALERT_STATUS_SNOOZED);
  }
  return absl::OkStatus();
}

}  // namespace alliance
