// ListDyads on the store's dyad listing (store/dyad_reads.h): the request's page token in, the
// page and the next token out. Run on a Redis pool thread.
#ifndef ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_

#include "absl/status/status.h"
#include "alliance/v1/insights.pb.h"
#include "store/dyad_reads.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// The request as the store lists it (DyadListing::after is the decoded page token).
using DyadListQuery = alliance::DyadListing;

// One page, ordered by therapist id then client id; next_page_token set when more may follow.
// The order and the tokens do not depend on the Redis mode.
absl::Status ListDyadsPage(RedisExecutor& redis, const KeyLayout& layout,
                           const DyadListQuery& query, alliance::v1::ListDyadsResponse* response);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_
