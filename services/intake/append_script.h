// The Lua script that makes deduplication and append one atomic step in Redis, and the parsing
// of its reply. One call handles several submissions of the same partition (all keys share the
// partition's hash tag), which spreads the fixed cost of a script call over them.
#ifndef ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_
#define ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance::intake {

// For submissions i = 1..n: KEYS[2i-1] idempotency key, KEYS[2i] feedback stream.
// ARGV[1] expiry of idempotency records in ms, ARGV[2] entry version, then per submission
// four values: content hash, accepted id, tenant, FeedbackEntry bytes.
// Reply: a flat array {outcome_1, stream_id_1, ..., outcome_n, stream_id_n} with outcome
// 0 appended, 1 retry of the same content (nothing written), 2 the id was used for other
// content (nothing written). Submissions are handled in order, so a repeated id within one
// call is a duplicate of the first.
extern const std::string_view kAppendScript;

enum class AppendOutcome { kAppended = 0, kDuplicate = 1, kConflict = 2 };

struct AppendReply {
  AppendOutcome outcome = AppendOutcome::kAppended;
  std::string stream_id;
};

// Parses the reply of a call for `count` submissions; INTERNAL for a malformed one. Error
// replies are not handled here.
absl::StatusOr<std::vector<AppendReply>> ParseAppendReplies(const redisReply& reply, size_t count);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_
