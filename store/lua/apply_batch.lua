--[[
  Applies a batch of analysed dyads of one partition, fenced by the lease: writes each dyad's
  record (a head, rewritten, and a log, appended to; see store/dyad_record_io.h), its index
  member and its alerts, then acknowledges the feedback entries behind them.
  The version is the head's protobuf field 1 (varint, tag byte 0x08), serialized first, so
  GETRANGE of the first bytes is enough to check it; a missing key is version 0. The ids of the
  applied dyads' entries are acknowledged together at the end (one XACK instead of one per
  dyad), in slices because Lua's unpack() is limited to a few thousand values. With the
  record, the dyad's contribution to the therapist summaries is replaced and the difference
  added to the sums (summary_delta.lua; the call's dyads' differences summed first), in this
  same script: a redelivered batch adds nothing and nothing is half-written.
  KEYS[1] lease, KEYS[2] alert stream, KEYS[3] feedback stream, KEYS[4] erasure counter, then
       per dyad: head, log, index; then, after every dyad's keys, per dyad: dyad summary,
       therapist summary, tenant summary, tenant's therapist set (KeyLayout::DyadSummary, ...);
       last, the partition's disengagement watch (KeyLayout::DisengagementWatch)
  ARGV[1] worker id, ARGV[2] consumer group, ARGV[3] dyad count, ARGV[4] erasure counter when
       the entries were read ('0' if unset), then per dyad: expected version ('' = any), head
       ('' = write nothing), log mode ('a': append the log bytes, 'r': replace the log with
       them), log bytes, index member ('' = none), alert count n, if n > 0: tenant, therapist,
       client and n * (alert_id, kind, severity, json), ack count m, m ids, summary field
       count s, if s > 0: therapist and s * (field, value), watch ('' = leave, '-' = remove,
       else the score to add with) and watch member; then count k, k
       more ids to acknowledge unconditionally (deleted entries); last, the retention in ms
       (0: none) set as the TTL of every head and log written and of its index (with 0, a log
       appended to keeps the expiry it had).
  Reply: -1 lease lost | per dyad: 1 applied, -2 version changed (nothing written or acked).
       A dyad one of whose entries no longer exists in the stream (erased by DeleteClientData
       while in flight) is acknowledged without writing anything (still 1). The per-entry
       existence check only runs when the erasure counter moved since the read:
       DeleteClientData increments it in the same transaction as it deletes entries.
  Alert entries are written in the format of store/alert_entry.h (version 1).
]]
--@include lease_fence.lua
--@include summary_delta.lua
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
-- The summary keys follow every dyad's keys, the disengagement watch comes last.
local watch_key = KEYS[#KEYS]
local summary_keys = #KEYS - 1 - 4 * tonumber(ARGV[3])
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
  local sums = tonumber(ARGV[a])
  local sums_at = a + 2
  if sums == 0 then sums_at = a + 1 end
  a = sums_at + 2 * sums
  local watch, watch_member = ARGV[a], ARGV[a + 1]
  a = a + 2
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
        local s = summary_keys + 4 * (d - 1)
        if sums > 0 then
          replace_summary(KEYS[s + 1], KEYS[s + 2], KEYS[s + 3], KEYS[s + 4], ARGV[sums_at - 1],
                          ARGV, sums_at, sums_at + 2 * sums - 1, retention)
        end
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
      if watch == '-' then
        redis.call('ZREM', watch_key, watch_member)
      elseif watch ~= '' then
        redis.call('ZADD', watch_key, watch, watch_member)
      end
    end
    for i = acks_at, acks_at + acks - 1 do acked[#acked + 1] = ARGV[i] end
    results[d] = 1
  else
    results[d] = -2
  end
end
-- The applied dyads' differences, added to the sums once per sum and field.
flush_summaries()
local extra = tonumber(ARGV[a])
for i = a + 1, a + extra do acked[#acked + 1] = ARGV[i] end
local i = 1
while i <= #acked do
  local last = math.min(i + 499, #acked)
  redis.call('XACK', KEYS[3], ARGV[2], unpack(acked, i, last))
  i = last + 1
end
return results
