// The dedupe-and-append Lua script; see append_script.h.
#include "services/intake/append_script.h"

namespace alliance::intake {

const std::string_view kAppendScript = R"lua(
local record = redis.call('GET', KEYS[1])
if record then
  local first = string.find(record, '|', 1, true)
  local second = string.find(record, '|', first + 1, true)
  local stream_id = string.sub(record, first + 1, second - 1)
  if string.sub(record, 1, first - 1) == ARGV[1] then
    return {1, stream_id}
  end
  return {2, stream_id}
end
local id = redis.call('XADD', KEYS[2], '*', 'v', ARGV[6], 'tenant', ARGV[3],
                      'accepted_id', ARGV[2], 'entry', ARGV[4])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. id .. '|' .. ARGV[2], 'PX', ARGV[5])
return {0, id}
)lua";

absl::StatusOr<AppendReply> ParseAppendReply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 ||
      reply.element[0]->type != REDIS_REPLY_INTEGER ||
      reply.element[1]->type != REDIS_REPLY_STRING) {
    return absl::InternalError("redis: unexpected reply of the append script");
  }
  long long code = reply.element[0]->integer;
  if (code < 0 || code > 2) return absl::InternalError("redis: unknown append script outcome");
  AppendReply out;
  out.outcome = static_cast<AppendOutcome>(code);
  out.stream_id.assign(reply.element[1]->str, reply.element[1]->len);
  return out;
}

}  // namespace alliance::intake
