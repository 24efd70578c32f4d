// Reads of dyad state: one dyad's record, and the tenant-wide dyad listing merged in order
// across the partitions' dyad indexes. Run on a Redis pool thread.
#ifndef ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/insights.pb.h"
#include "store/dyad_record_io.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// A dyad's head and log of `partition` (store/dyad_record_io.h's read, through the executor):
// nullopt when it has no head; DATA_LOSS when unreadable.
absl::StatusOr<std::optional<StoredDyad>> ReadDyad(RedisExecutor& redis, const KeyLayout& layout,
                                                   int partition, std::string_view tenant,
                                                   std::string_view therapist,
                                                   std::string_view client);

// NOT_FOUND when the tenant has no such dyad (another tenant's dyad included).
absl::StatusOr<alliance::internal::v1::DyadRecord> LoadDyad(RedisExecutor& redis,
                                                            const KeyLayout& layout,
                                                            std::string_view tenant,
                                                            std::string_view therapist,
                                                            std::string_view client);

struct DyadListQuery {
  std::string tenant;
  std::string therapist;  // empty: all
  bool at_risk_only = false;
  bool open_rupture_only = false;
  bool unrepaired_only = false;
  int page_size = 50;
  std::string after;  // last member of the previous page ("therapist:client"), empty at start
  // Index members examined per call at most; a filtered page may come back short (with a
  // next_page_token) once this many were examined.
  int max_examined = 5000;
};

// One page, ordered by therapist id then client id. The partitions' indexes are read in one
// pipeline (on a cluster, one exchange per partition) and merged, so the order and the page
// tokens do not depend on the mode.
absl::Status ListDyadsPage(RedisExecutor& redis, const KeyLayout& layout,
                           const DyadListQuery& query, alliance::v1::ListDyadsResponse* response);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DYAD_QUERIES_H_
