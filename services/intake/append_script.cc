// The dedupe-and-append Lua script; see append_script.h.
#include "services/intake/append_script.h"

namespace alliance::intake {

const std::string_view kAppendScript = R"lua(
local window, version = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS / 2 do
  local idem, stream = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 2 + (i - 1) * 4
  local hash, accepted = ARGV[a + 1], ARGV[a + 2]
  local record = redis.call('GET', idem)
  if record then
    local first = string.find(record, '|', 1, true)
    local second = string.find(record, '|', first + 1, true)
    out[#out + 1] = (string.sub(record, 1, first - 1) == hash) and 1 or 2
    out[#out + 1] = string.sub(record, first + 1, second - 1)
  else
    local id = redis.call('XADD', stream, '*', 'v', version, 'tenant', ARGV[a + 3],
                          'accepted_id', accepted, 'entry', ARGV[a + 4])
    redis.call('SET', idem, hash .. '|' .. id .. '|' .. accepted, 'PX', window)
    out[#out + 1] = 0
    out[#out + 1] = id
  end
end
return out
)lua";

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
