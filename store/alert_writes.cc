// Alert status transitions; see alert_writes.h.
#include "store/alert_writes.h"

#include <google/protobuf/util/time_util.h>

#include <string>

#include "absl/time/clock.h"
#include "store/alert_status_hash.h"
#include "store/lua_scripts.h"

namespace alliance {

using google::protobuf::util::TimeUtil;

absl::Status ChangeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor,
                               AlertStatusChange change, alliance::v1::Alert* alert) {
  std::string key = layout.AlertStatus(tenant, alert->alert_id());
  std::string now = TimeUtil::ToString(TimeUtil::GetCurrentTime());
  std::string_view script =
      ScriptSource(change == AlertStatusChange::kAcknowledge ? Script::kAcknowledgeAlert
                                                             : Script::kResolveAlert);
  absl::StatusOr<RedisReplyPtr> reply =
      redis.Command(redis.SlotOf(key), {"EVAL", script, "1", key, actor, now});
  if (!reply.ok()) return reply.status();
  return ApplyAlertStatusHash(**reply, alert);
}

absl::Status SnoozeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor, absl::Time until,
                               std::string_view reason, alliance::v1::Alert* alert) {
  std::string key = layout.AlertStatus(tenant, alert->alert_id());
  const absl::Time now = absl::Now();
  std::string at = TimeUtil::ToString(TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now)));
  std::string until_text =
      TimeUtil::ToString(TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(until)));
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(
      redis.SlotOf(key),
      {"EVAL", ScriptSource(Script::kSnoozeAlert), "1", key, actor, at, until_text, reason});
  if (!reply.ok()) return reply.status();
  alliance::v1::Alert changed = *alert;
  if (absl::Status s = ApplyAlertStatusHash(**reply, &changed, now); !s.ok()) return s;
  if (changed.status() == alliance::v1::ALERT_STATUS_RESOLVED) {
    return absl::FailedPreconditionError("alert is resolved; a resolved alert cannot be snoozed");
  }
  *alert = std::move(changed);
  return absl::OkStatus();
}

}  // namespace alliance
