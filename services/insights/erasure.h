// Erasure of one client's data (DeleteClientData): every place docs/redis-layout.md stores it.
// Order matters for the worker running concurrently: the client's feedback entries are
// deleted from the streams first (the worker's apply script skips entries that no longer
// exist, so an entry in flight cannot re-create state), then dyad states and index members,
// then alerts and their status records, then idempotency records.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ERASURE_H_
#define ALLIANCE_SERVICES_INSIGHTS_ERASURE_H_

#include <string>

#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance::insights {

struct ErasureLimits {
  int page = 500;                  // stream entries / SCAN hint per round trip
  int64_t max_rounds = 1'000'000;  // bound of every scan loop
};

// Erases `client` of `tenant`; returns what was removed per kind (all zeros when nothing was
// left, so a repeated call is a no-op). On a Redis Cluster every partition's work goes to its
// slot and the scan for idempotency records walks every primary.
absl::StatusOr<alliance::v1::DeleteClientDataResponse> EraseClient(RedisExecutor& redis,
                                                                   const KeyLayout& layout,
                                                                   const std::string& tenant,
                                                                   const std::string& client,
                                                                   ErasureLimits limits = {});
// The same on a single Redis connection.
absl::StatusOr<alliance::v1::DeleteClientDataResponse> EraseClient(RedisConnection& redis,
                                                                   const KeyLayout& layout,
                                                                   const std::string& tenant,
                                                                   const std::string& client,
                                                                   ErasureLimits limits = {});

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_ERASURE_H_
