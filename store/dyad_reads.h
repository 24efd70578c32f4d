// Reads of dyad state through a RedisExecutor (a single Redis or a Redis Cluster alike): one
// dyad's stored record (head and log, store/dyad_record_io.h), and a tenant's dyads listed page
// by page in (therapist, client) order, merged across the partitions' dyad indexes
// (KeyLayout::DyadIndex). The keys are in docs/redis-layout.md; insights maps its requests to
// these operations.
#ifndef ALLIANCE_STORE_DYAD_READS_H_
#define ALLIANCE_STORE_DYAD_READS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/common.pb.h"
#include "store/dyad_record_io.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

// The dyad's head and log in `partition` (one MGET on the partition's slot). nullopt when it
// has no head (never written, or erased); DATA_LOSS when the bytes are not a DyadRecord; an
// error reply as its status (INTERNAL naming Redis's message); INTERNAL for a reply that is not
// MGET's two values; a transport failure as the executor reports it (UNAVAILABLE).
absl::StatusOr<std::optional<StoredDyad>> ReadDyad(RedisExecutor& redis, const KeyLayout& layout,
                                                   int partition, std::string_view tenant,
                                                   std::string_view therapist,
                                                   std::string_view client);

// The whole record of `tenant`'s dyad, read in the dyad's own partition. NOT_FOUND when the
// tenant has no such dyad (a record naming another tenant included); otherwise as ReadDyad.
absl::StatusOr<internal::v1::DyadRecord> ReadTenantDyad(RedisExecutor& redis,
                                                        const KeyLayout& layout,
                                                        std::string_view tenant,
                                                        std::string_view therapist,
                                                        std::string_view client);

// What ListTenantDyads lists.
struct DyadListing {
  std::string tenant;
  std::string therapist;  // empty: all
  bool at_risk_only = false;
  bool open_rupture_only = false;
  bool unrepaired_only = false;
  int page_size = 50;
  std::string after;  // last member of the previous page ("therapist:client"), empty at start
  // Index members examined per call at most; a filtered page may come back short (with
  // resume_after set) once this many were examined.
  int max_examined = 5000;
};

struct DyadPage {
  // The dyads' pictures (DyadRecord.picture), ordered by therapist id then client id.
  std::vector<alliance::v1::Dyad> dyads;
  // Set when the walk stopped before the end: the last index member examined, which the next
  // call takes as DyadListing::after. Unset when every member was examined.
  std::optional<std::string> resume_after;
};

// One page of `listing.tenant`'s dyads. Each round reads every partition's index (ZRANGE BYLEX
// from the position, one pipeline; on a cluster one per primary) and merges the members,
// keeping only those below the smallest last member of any partition that returned a full
// batch (beyond it another partition may still hold smaller members); then the members' heads
// (GET, one pipeline). So order and resume positions do not depend on the Redis mode. A member
// whose head is missing or unreadable (indexed but not written yet, erased meanwhile) is
// skipped, as is a record of another tenant. Error replies are the call's status (every reply
// of a pipeline is read first); INTERNAL for replies of an unexpected type.
absl::StatusOr<DyadPage> ListTenantDyads(RedisExecutor& redis, const KeyLayout& layout,
                                         const DyadListing& listing);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DYAD_READS_H_
