--[[
  Reads the next feedback entries of a partition for one worker (XREADGROUP), fenced by the
  lease. The erasure counter is read atomically with the delivery (see apply_batch.lua). When
  nothing is new, the stream's last entry (an XREVRANGE reply) tells where the blocking wait
  starts.
  KEYS[1] lease, KEYS[2] feedback stream, KEYS[3] erasure counter
  ARGV[1] worker id, ARGV[2] consumer group, ARGV[3] count, ARGV[4] '>' or a pending-list cursor
  Reply: -1 lease lost
       | {1, entries, erasure counter}
       | {0, XREVRANGE of the last entry (empty when none), erasure counter} when '>' found
         nothing.
]]
--@include lease_fence.lua
local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[1], 'COUNT', ARGV[3],
                     'STREAMS', KEYS[2], ARGV[4])
local erasures = redis.call('GET', KEYS[3]) or '0'
if r and r[1] and #r[1][2] > 0 then return {1, r[1][2], erasures} end
if ARGV[4] ~= '>' then return {1, {}, erasures} end
return {0, redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1), erasures}
