// Access log lines; see access_log.h.
#include "services/insights/access_log.h"

#include "absl/strings/str_join.h"
#include "common/log.h"

namespace alliance::insights {

void LogAccess(std::string_view method, const Caller& caller, const std::vector<std::string>& dyads,
               const std::vector<std::string>& alerts, bool always) {
  if (!always && dyads.empty() && alerts.empty()) return;
  std::string dyad_list = absl::StrJoin(dyads, ",");
  std::string alert_list = absl::StrJoin(alerts, ",");
  LogInfo("access", {{"method", method},
                     {"key_id", std::string_view(caller.key_id)},
                     {"tenant", std::string_view(caller.tenant)},
                     {"dyads", std::string_view(dyad_list)},
                     {"alerts", std::string_view(alert_list)}});
}

}  // namespace alliance::insights
