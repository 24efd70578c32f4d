// The Lua script that makes deduplication and append one atomic step in Redis, and the parsing
// of its reply. All keys it touches share the partition's hash tag.
#ifndef ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_
#define ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace alliance::intake {

// KEYS[1] idempotency key, KEYS[2] feedback stream.
// ARGV[1] content hash, ARGV[2] accepted id, ARGV[3] tenant, ARGV[4] FeedbackEntry bytes,
// ARGV[5] expiry of the idempotency record in ms, ARGV[6] entry version.
// Reply: {0, stream id} appended; {1, stream id} retry of the same content (nothing written);
// {2, stream id} the id was used for other content (nothing written).
extern const std::string_view kAppendScript;

enum class AppendOutcome { kAppended = 0, kDuplicate = 1, kConflict = 2 };

struct AppendReply {
  AppendOutcome outcome = AppendOutcome::kAppended;
  std::string stream_id;
};

// Parses the script's reply; INTERNAL for a malformed one. Error replies are not handled here.
absl::StatusOr<AppendReply> ParseAppendReply(const redisReply& reply);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_
