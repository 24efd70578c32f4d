--[[
  Removes consumers of other (restarted or moved) workers that hold nothing, fenced by the
  lease: deleting a consumer drops its pending entries, so one with any pending entry stays
  until a claim has taken them over. Atomic, so no entry can be delivered to a consumer between
  the check and the removal. RESP2 XINFO CONSUMERS: one flat field/value list per consumer.
  KEYS[1] lease, KEYS[2] feedback stream
  ARGV[1] worker id, ARGV[2] consumer group, ARGV[3] min idle ms, ARGV[4] limit
  Reply: -1 lease lost | the number of consumers removed (at most the limit)
]]
--@include lease_fence.lua
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
