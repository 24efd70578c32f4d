// Alert status transitions; see alert_writes.h.
#include "store/alert_writes.h"

#include <google/protobuf/util/time_util.h>

#include <string>

#include "store/alert_status_hash.h"
#include "store/lua_scripts.h"

namespace alliance {

absl::Status ChangeAlertStatus(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant, std::string_view actor,
                               AlertStatusChange change, alliance::v1::Alert* alert) {
  using google::protobuf::util::TimeUtil;
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

}  // namespace alliance
