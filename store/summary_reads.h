// Reads of the therapist summaries (docs/redis-layout.md, "Therapist summaries"): the worker
// keeps, per partition, a sum of its dyads' contributions for each therapist and for the
// tenant, and a set of the tenant's therapists; a query sums the partitions. Each read is one
// pipeline of a command per partition (and therapist), bounded by the partitions and the
// therapists asked for, never by the number of dyads.
#ifndef ALLIANCE_STORE_SUMMARY_READS_H_
#define ALLIANCE_STORE_SUMMARY_READS_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "analytics/therapist_summary.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

// The tenant's therapists that have dyads, ordered by id: those after `after` (all when
// empty), at most `limit` (`more` set when others follow).
struct SummaryTherapistPage {
  std::vector<std::string> therapists;
  bool more = false;
};
absl::StatusOr<SummaryTherapistPage> ListSummaryTherapists(RedisExecutor& redis,
                                                           const KeyLayout& layout,
                                                           const std::string& tenant,
                                                           const std::string& after, size_t limit);

// The tenant's sums and each named therapist's, added up over the partitions.
struct SummarySums {
  analytics::SummaryCounts tenant;
  std::vector<analytics::SummaryCounts> therapists;  // in the order asked
};
// INTERNAL for a reply that is not a hash of integer fields of the summary's form.
absl::StatusOr<SummarySums> ReadSummarySums(RedisExecutor& redis, const KeyLayout& layout,
                                            const std::string& tenant,
                                            std::span<const std::string> therapists);

}  // namespace alliance

#endif  // ALLIANCE_STORE_SUMMARY_READS_H_
