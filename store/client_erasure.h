// Erasure of one client's data (insights' DeleteClientData): every place docs/redis-layout.md
// stores it, in every partition, on a single Redis or a Redis Cluster alike.
//
// Order matters for the worker running concurrently: the client's feedback entries are
// deleted from the streams first (the worker's apply script skips entries that no longer
// exist, and learns from the partition's erasure counter that it must look, so an entry in
// flight cannot re-create state), then dyad states and index members (each dyad in one script,
// store/lua/erase_dyad.lua, that also subtracts its contribution from the therapist summaries),
// then alert entries and their status hashes, then idempotency records.
#ifndef ALLIANCE_STORE_CLIENT_ERASURE_H_
#define ALLIANCE_STORE_CLIENT_ERASURE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

struct ClientErasureLimits {
  int page = 500;                  // stream entries / SCAN hint per round trip
  int64_t max_rounds = 1'000'000;  // bound of every scan loop
};

// What one erasure removed, per kind.
struct ErasedClientData {
  int64_t feedback_entries = 0;     // entries of the feedback streams (pending or retained)
  int64_t dead_letters = 0;         // entries of the dead-letter streams
  int64_t dyad_states = 0;          // dyad records (head and log count as one)
  int64_t dyad_index_entries = 0;   // members of the tenant's dyad indexes
  int64_t alert_entries = 0;        // entries of the alert streams
  int64_t alert_statuses = 0;       // alert status hashes
  int64_t idempotency_records = 0;  // intake's idempotency records
};

// Erases `client` of `tenant`; all zeros when nothing was left, so a repeated call is a no-op
// (and a failed one can be retried). Each partition's work goes to its slot; the scan for
// idempotency records whose entries were already trimmed walks every primary. Errors:
// DEADLINE_EXCEEDED when a walk exceeds `limits.max_rounds` pages; UNAVAILABLE when a
// partition moved or failed over under the feedback deletion's transaction (retry); an error
// reply, or a reply of an unexpected type, as INTERNAL; a transport failure as the executor
// reports it. Every reply of every pipeline is read before any is judged.
absl::StatusOr<ErasedClientData> EraseClientData(RedisExecutor& redis, const KeyLayout& layout,
                                                 const std::string& tenant,
                                                 const std::string& client,
                                                 ClientErasureLimits limits = {});

}  // namespace alliance

#endif  // ALLIANCE_STORE_CLIENT_ERASURE_H_
