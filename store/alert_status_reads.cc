// Status overlay of alerts; see alert_status_reads.h.
#include "store/alert_status_reads.h"

#include <string>
#include <vector>

#include "store/alert_status_hash.h"

namespace alliance {

absl::Status ReadAlertStatuses(RedisExecutor& redis, const KeyLayout& layout,
                               std::string_view tenant,
                               std::span<alliance::v1::Alert* const> alerts) {
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
  // Decoded into copies first, so that an error leaves every alert as it was.
  std::vector<alliance::v1::Alert> overlaid;
  overlaid.reserve(alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    overlaid.push_back(*alerts[i]);
    if (absl::Status s = ApplyAlertStatusHash(*(*replies)[i], &overlaid.back()); !s.ok()) return s;
  }
  for (size_t i = 0; i < alerts.size(); ++i) *alerts[i] = std::move(overlaid[i]);
  return absl::OkStatus();
}

}  // namespace alliance
