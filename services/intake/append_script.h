// The reply of the dedupe-and-append script (store/lua/append_feedback.lua), parsed. One call
// handles several submissions of the same partition (all keys share the partition's hash tag),
// which spreads the fixed cost of a script call over them.
#ifndef ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_
#define ALLIANCE_SERVICES_INTAKE_APPEND_SCRIPT_H_

#include <hiredis/hiredis.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance::intake {

// The script is store/lua/append_feedback.lua (Script::kAppendFeedback); its header states
// KEYS, ARGV and the reply parsed here.
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
