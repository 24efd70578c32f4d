// Alert status hashes. Fields: status ("acknowledged" | "resolved"), by and at of the latest
// change, and acknowledged_by/_at, resolved_by/_at so that both steps keep their who and when.
// Times are RFC 3339 UTC.
#include "services/insights/alert_status.h"

#include <google/protobuf/util/time_util.h>

#include <string>

#include "absl/time/clock.h"
#include "store/lua_scripts.h"

namespace alliance::insights {
namespace {

using google::protobuf::util::TimeUtil;

void SetTime(std::string_view text, google::protobuf::Timestamp* out) {
  google::protobuf::Timestamp parsed;
  if (TimeUtil::FromString(std::string(text), &parsed)) *out = parsed;
}

// Applies an HGETALL reply ([field, value, ...]) to `alert`.
void ApplyHash(const redisReply& reply, alliance::v1::Alert* alert) {
  alert->set_status(alliance::v1::ALERT_STATUS_OPEN);
  if (reply.type != REDIS_REPLY_ARRAY) return;
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
    }
  }
}

}  // namespace

absl::Status OverlayStatuses(RedisExecutor& redis, const KeyLayout& layout, std::string_view tenant,
                             const std::vector<alliance::v1::Alert*>& alerts) {
  if (alerts.empty()) return absl::OkStatus();
  std::vector<std::string> keys;
  keys.reserve(alerts.size());
  for (const alliance::v1::Alert* alert : alerts) {
    keys.push_back(layout.AlertStatus(tenant, alert->alert_id()));
  }
  std::vector<SlotCommand> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) commands.push_back({redis.SlotOf(key), {"HGETALL", key}});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.ReadPipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  }
  for (size_t i = 0; i < alerts.size(); ++i) ApplyHash(*(*replies)[i], alerts[i]);
  return absl::OkStatus();
}

absl::Status ApplyTransition(RedisExecutor& redis, const KeyLayout& layout, std::string_view tenant,
                             std::string_view actor, Transition transition,
                             alliance::v1::Alert* alert) {
  std::string key = layout.AlertStatus(tenant, alert->alert_id());
  std::string now = TimeUtil::ToString(TimeUtil::GetCurrentTime());
  std::string_view script = ScriptSource(
      transition == Transition::kAcknowledge ? Script::kAcknowledgeAlert : Script::kResolveAlert);
  absl::StatusOr<RedisReplyPtr> reply =
      redis.Command(redis.SlotOf(key), {"EVAL", script, "1", key, actor, now});
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  ApplyHash(**reply, alert);
  return absl::OkStatus();
}

}  // namespace alliance::insights
