// The dead-letter entry: a feedback entry the worker could not apply after --max_attempts
// deliveries, parked in the partition's dead-letter stream by store/lua/dead_letter.lua with
// the fields v, source_id, reason, attempts and the feedback entry's tenant, accepted_id and
// entry (store/feedback_entry.h); docs/redis-layout.md. store/lua/replay_dead_letter.lua moves
// one back to the feedback stream.
#ifndef ALLIANCE_STORE_DEAD_LETTER_H_
#define ALLIANCE_STORE_DEAD_LETTER_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "store/stream_entry.h"

namespace alliance {

struct DeadLetter {
  std::string id;         // the dead-letter entry's own id
  std::string source_id;  // the feedback entry's id when it was parked
  std::string reason;     // why it could not be applied (no answers or free text)
  int64_t attempts = 0;
  // The parked feedback entry, as it was in the feedback stream.
  std::string tenant;
  std::string accepted_id;
  std::string entry;  // alliance.internal.v1.FeedbackEntry bytes
};

// INVALID_ARGUMENT naming the problem for an entry of another version, with a missing field or
// a non-numeric attempt count.
absl::StatusOr<DeadLetter> ParseDeadLetter(const StreamEntry& entry);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DEAD_LETTER_H_
