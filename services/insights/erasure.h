// DeleteClientData on the store's erasure of one client (store/client_erasure.h, which says
// what is erased and in which order): what was removed, as the response counts it.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ERASURE_H_
#define ALLIANCE_SERVICES_INSIGHTS_ERASURE_H_

#include <string>

#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "store/client_erasure.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance::insights {

using ErasureLimits = alliance::ClientErasureLimits;

// Erases `client` of `tenant`; returns what was removed per kind (all zeros when nothing was
// left, so a repeated call is a no-op). Errors as EraseClientData's.
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
