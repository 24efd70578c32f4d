// Many dyads' stored records at once (the worker's cache misses of one batch): one MGET of head
// and log per dyad (store/dyad_record_io.h), in windowed pipelines on a single Redis and one
// exchange per slot on a cluster (store/windowed_pipeline.h).
#ifndef ALLIANCE_STORE_DYAD_RECORD_BATCH_H_
#define ALLIANCE_STORE_DYAD_RECORD_BATCH_H_

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/dyad_record_io.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

struct DyadAddress {
  int partition = 0;
  std::string_view tenant, therapist, client;
};

// One result per dyad, in order: nullopt when it has no head, DATA_LOSS when its bytes are not
// a DyadRecord (the others are still read). Any other failure (transport, an error reply, a
// reply of another shape) fails the whole call.
absl::StatusOr<std::vector<absl::StatusOr<std::optional<StoredDyad>>>> ReadStoredDyads(
    RedisExecutor& redis, const KeyLayout& layout, std::span<const DyadAddress> dyads);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DYAD_RECORD_BATCH_H_
