// Reads of the partitions' alert streams: the tenant's alerts newest first (merged across
// partitions, filtered, paged), and finding one alert by id. Run on a Redis pool thread.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ALERT_QUERIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_ALERT_QUERIES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "services/insights/alert_filter.h"
#include "services/insights/tokens.h"
#include "store/alert_entry.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

struct AlertListQuery {
  AlertFilter filter;
  alliance::v1::AlertStatus status = alliance::v1::ALERT_STATUS_UNSPECIFIED;
  int page_size = 50;
  AlertWalk walk;  // from the page token; empty: start at the newest entry of every partition
  // Stream entries examined per call at most; a filtered page may come back short (with a
  // next_page_token) once this many were examined.
  int max_examined = 20000;
};

absl::Status ListAlertsPage(RedisExecutor& redis, const KeyLayout& layout,
                            const AlertListQuery& query,
                            alliance::v1::ListAlertsResponse* response);

// The alert `alert_id` of `tenant`, with its status. With therapist and client it is read
// from the dyad's state; otherwise the alert streams are searched newest first, at most
// `max_examined` entries. NOT_FOUND when absent or another tenant's.
absl::StatusOr<alliance::v1::Alert> FindAlert(RedisExecutor& redis, const KeyLayout& layout,
                                              std::string_view tenant, std::string_view alert_id,
                                              std::string_view therapist, std::string_view client,
                                              int max_examined);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_ALERT_QUERIES_H_
