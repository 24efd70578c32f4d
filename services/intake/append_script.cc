// Parsing of the dedupe-and-append script's reply; see append_script.h.
#include "services/intake/append_script.h"

namespace alliance::intake {

absl::StatusOr<std::vector<AppendReply>> ParseAppendReplies(const redisReply& reply, size_t count) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 * count) {
    return absl::InternalError("redis: unexpected reply of the append script");
  }
  std::vector<AppendReply> out(count);
  for (size_t i = 0; i < count; ++i) {
    const redisReply* code = reply.element[2 * i];
    const redisReply* id = reply.element[2 * i + 1];
    if (code->type != REDIS_REPLY_INTEGER || id->type != REDIS_REPLY_STRING || code->integer < 0 ||
        code->integer > 2) {
      return absl::InternalError("redis: unexpected reply of the append script");
    }
    out[i].outcome = static_cast<AppendOutcome>(code->integer);
    out[i].stream_id.assign(id->str, id->len);
  }
  return out;
}

}  // namespace alliance::intake
