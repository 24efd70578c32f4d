// GetTherapistSummary and ListTherapistSummaries on the store's summary sums
// (store/summary_reads.h) and the analytics figures (analytics/therapist_summary.h): the
// partitions' sums in one pipelined read, the figures as of today (UTC), shrunk toward the
// tenant's. Run on a Redis pool thread.
#ifndef ALLIANCE_SERVICES_INSIGHTS_THERAPIST_SUMMARIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_THERAPIST_SUMMARIES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/summary_rules.h"
#include "analytics/therapist_summary.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// The figures in the response's form; `therapist` empty for the tenant's own.
void FillTherapistSummary(const analytics::SummaryFigures& figures, const std::string& therapist,
                          alliance::v1::TherapistSummary* out);

// NOT_FOUND when the tenant has no dyad of `therapist`.
absl::Status TherapistSummaryQuery(RedisExecutor& redis, const KeyLayout& layout,
                                   const analytics::SummaryRules& rules, const std::string& tenant,
                                   const std::string& therapist, int64_t today,
                                   alliance::v1::GetTherapistSummaryResponse* response);

// One page of therapists after `after` (a decoded page token; empty: from the first).
absl::Status TherapistSummaryPage(RedisExecutor& redis, const KeyLayout& layout,
                                  const analytics::SummaryRules& rules, const std::string& tenant,
                                  const std::string& after, int page_size, int64_t today,
                                  alliance::v1::ListTherapistSummariesResponse* response);

// Today's UTC day number (days since 1970-01-01).
int64_t TodayUtc();

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_THERAPIST_SUMMARIES_H_
