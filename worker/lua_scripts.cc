// Sources of the worker's Lua scripts (see lua_scripts.h for their contracts).
#include "worker/lua_scripts.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/resp_command.h"
#include "common/strings.h"

namespace alliance::worker {
namespace {

// The erasure counter is read atomically with the delivery (see kApplyBatch). When nothing is
// new, the stream's last entry (an XREVRANGE reply) tells where the blocking wait starts.
constexpr std::string_view kFencedRead = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3],
                     'STREAMS', KEYS[2], ARGV[4])
local erasures = redis.call('GET', KEYS[3]) or '0'
if r and r[1] and #r[1][2] > 0 then return {1, r[1][2], erasures} end
if ARGV[4] ~= '>' then return {1, {}, erasures} end
return {0, redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1), erasures}
)lua";

constexpr std::string_view kFencedClaim = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[1], ARGV[3], ARGV[4],
                     'COUNT', ARGV[5], 'JUSTID')
return {r[1], #r[2]}
)lua";

// Applies a batch of dyads of one partition. A record is a head (rewritten) and a log (appended
// to; see common/dyad_record_io.h). The version is the head's protobuf field 1 (varint, tag
// byte 0x08), serialized first, so GETRANGE of the first bytes is enough to check it; a
// missing key is version 0. The ids of the applied dyads' entries are acknowledged together at
// the end (one XACK instead of one per dyad), in slices because Lua's unpack() is limited to a
// few thousand values.
constexpr std::string_view kApplyBatch = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local function version_of(v)
  if not v or string.byte(v, 1) ~= 8 then return 0 end
  local n, mul, i = 0, 1, 2
  while i <= #v do
    local b = string.byte(v, i)
    n = n + (b % 128) * mul
    if b < 128 then break end
    mul = mul * 128
    i = i + 1
  end
  return n
end
-- DeleteClientData deletes a client's entries from the stream and counts the deletion in the
-- partition's erasure counter in the same transaction. If the counter still has the value it
-- had when this batch was read, nothing was erased since: skip the per-entry check.
local check_erased = (redis.call('GET', KEYS[4]) or '0') ~= ARGV[4]
local acked = {}
local results = {}
local retention = tonumber(ARGV[#ARGV])
local refreshed = {}
local a = 5
for d = 1, tonumber(ARGV[3]) do
  local dyad_key, log_key, index_key = KEYS[2 + 3 * d], KEYS[3 + 3 * d], KEYS[4 + 3 * d]
  local expected, head, log_mode, log, member = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
                                                ARGV[a + 4]
  local alerts = tonumber(ARGV[a + 5])
  local alerts_at = a + 9
  if alerts == 0 then alerts_at = a + 6 end
  a = alerts_at + 4 * alerts
  local acks = tonumber(ARGV[a])
  local acks_at = a + 1
  a = acks_at + acks
  if expected == '' or
      version_of(redis.call('GETRANGE', dyad_key, 0, 11)) == tonumber(expected) then
    -- An entry gone from the stream was erased while in flight and must not re-create the
    -- dyad.
    local erased = false
    if check_erased then
      for i = acks_at, acks_at + acks - 1 do
        if #redis.call('XRANGE', KEYS[3], ARGV[i], ARGV[i], 'COUNT', 1) == 0 then erased = true end
      end
    end
    if not erased then
      if member ~= '' then redis.call('ZADD', index_key, 0, member) end
      if head ~= '' then
        if log_mode == 'r' then
          redis.call('DEL', log_key)
        end
        if log ~= '' then redis.call('APPEND', log_key, log) end
        if retention > 0 then
          redis.call('SET', dyad_key, head, 'PX', retention)
          redis.call('PEXPIRE', log_key, retention)
          -- The index outlives each of its dyads: its expiry is pushed back by every script
          -- that writes any of them (once per script; 0 means the index does not exist yet).
          if not refreshed[index_key] then
            refreshed[index_key] = redis.call('PEXPIRE', index_key, retention) == 1
          end
        else
          -- No expiry on the log either: the worker replaces (re-creates) a log at the first
          -- write after loading it, so one that had an expiry before does not keep it.
          redis.call('SET', dyad_key, head)
        end
      end
      if alerts > 0 then
        local tenant, therapist, client = ARGV[alerts_at - 3], ARGV[alerts_at - 2], ARGV[alerts_at - 1]
        for i = alerts_at, alerts_at + 4 * alerts - 1, 4 do
          redis.call('XADD', KEYS[2], '*', 'v', '1', 'tenant', tenant, 'therapist', therapist,
                     'client', client, 'alert_id', ARGV[i], 'kind', ARGV[i + 1],
                     'severity', ARGV[i + 2], 'alert', ARGV[i + 3])
        end
      end
    end
    for i = acks_at, acks_at + acks - 1 do acked[#acked + 1] = ARGV[i] end
    results[d] = 1
  else
    results[d] = -2
  end
end
local extra = tonumber(ARGV[a])
for i = a + 1, a + extra do acked[#acked + 1] = ARGV[i] end
local i = 1
while i <= #acked do
  local last = math.min(i + 499, #acked)
  redis.call('XACK', KEYS[3], ARGV[2], unpack(acked, i, last))
  i = last + 1
end
return results
)lua";

// Parks an entry only while it is still pending: when the same entry was in hand twice (a
// redelivery or claim while a slow first attempt was still failing), the second call finds it
// acknowledged and parks nothing, so a poison entry is never dead-lettered twice.
constexpr std::string_view kDeadLetter = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('XACK', KEYS[3], ARGV[2], ARGV[3]) == 0 then return 0 end
local fields = {'v', '1', 'source_id', ARGV[3], 'reason', ARGV[4], 'attempts', ARGV[5]}
for i = 6, #ARGV, 2 do
  local name = ARGV[i]
  if name == 'tenant' or name == 'accepted_id' or name == 'entry' then
    table.insert(fields, name)
    table.insert(fields, ARGV[i + 1])
  end
end
redis.call('XADD', KEYS[2], '*', unpack(fields))
return 1
)lua";

constexpr std::string_view kLeaseKeep = R"lua(
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
)lua";

constexpr std::string_view kLeaseRelease = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua";

// Member scores are expiry times in ms on the Redis server's clock, so workers need no
// synchronized clocks.
constexpr std::string_view kHeartbeat = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
)lua";

constexpr std::string_view kReplayDeadLetter = R"lua(
local r = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #r == 0 then return 0 end
local f = r[1][2]
local out = {'v', '1'}
for i = 1, #f, 2 do
  if f[i] == 'tenant' or f[i] == 'accepted_id' or f[i] == 'entry' then
    table.insert(out, f[i])
    table.insert(out, f[i + 1])
  end
end
redis.call('XADD', KEYS[2], '*', unpack(out))
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
)lua";

// Removes consumers of other (restarted or moved) workers that hold nothing: deleting a
// consumer drops its pending entries, so one with any pending entry stays until a claim has
// taken them over. Atomic, so no entry can be delivered to a consumer between the check and the
// removal. RESP2 XINFO CONSUMERS: one flat field/value list per consumer.
constexpr std::string_view kRetireConsumers = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local idle_ms, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local removed = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[2], ARGV[2])) do
  if removed >= limit then break end
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[1] and f['pending'] == 0 and f['idle'] >= idle_ms then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[2], ARGV[2], f['name'])
    removed = removed + 1
  end
end
return removed
)lua";

constexpr std::string_view kAll[] = {kFencedRead, kFencedClaim,      kApplyBatch,
                                     kDeadLetter, kLeaseKeep,        kLeaseRelease,
                                     kHeartbeat,  kReplayDeadLetter, kRetireConsumers};

}  // namespace

std::string_view ScriptSource(Script script) { return kAll[static_cast<size_t>(script)]; }

absl::Status ScriptShas::Load(RedisConnection& redis) {
  std::vector<std::string> shas;
  for (std::string_view source : kAll) redis.Append({"SCRIPT", "LOAD", source});
  for (size_t i = 0; i < std::size(kAll); ++i) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    shas.emplace_back(ReplyString(**reply));
  }
  shas_ = std::move(shas);
  return absl::OkStatus();
}

namespace {

template <typename Strings>
size_t TotalBytes(const Strings& strings) {
  size_t n = 0;
  for (const auto& s : strings) n += s.size();
  return n;
}

template <typename Keys, typename Args>
void Encode(std::string& out, std::string_view sha, const Keys& keys, const Args& args) {
  const std::string key_count = std::to_string(keys.size());
  const size_t argc = 3 + keys.size() + args.size();
  out.clear();
  // Per argument: "$", up to 10 digits, and two line ends.
  out.reserve(16 + 16 * argc + TotalBytes(keys) + TotalBytes(args) + sha.size());
  RespCommand command(&out);
  command.Begin(argc);
  command.Arg("EVALSHA");
  command.Arg(sha);
  command.Arg(key_count);
  for (const auto& k : keys) command.Arg(k);
  for (const auto& a : args) command.Arg(a);
}

// Small commands join the connection's output buffer, so commands queued together go out in
// one write (each write to a socket costs a system call here and a wake-up in Redis); large
// ones are written straight away (see RedisConnection::AppendEncoded).
constexpr size_t kBufferedBelow = 64 * 1024;

void Queue(RedisConnection& redis, const std::string& command) {
  if (command.size() < kBufferedBelow) {
    redis.AppendFormatted(command);
  } else {
    redis.AppendEncoded(command);
  }
}

}  // namespace

void ScriptShas::Append(RedisConnection& redis, Script script,
                        const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& args) const {
  Encode(command_, sha(script), keys, args);
  Queue(redis, command_);
}

void ScriptShas::AppendStrings(RedisConnection& redis, Script script,
                               const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) const {
  Encode(command_, sha(script), keys, args);
  Queue(redis, command_);
}

bool IsNoScript(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ERROR && absl::StartsWith(Absl(ReplyString(reply)), "NOSCRIPT");
}

}  // namespace alliance::worker
