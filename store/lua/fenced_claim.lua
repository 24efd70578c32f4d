--[[
  Claims feedback entries that another (gone) consumer left pending for too long (XAUTOCLAIM),
  fenced by the lease.
  KEYS[1] lease, KEYS[2] feedback stream
  ARGV[1] worker id, ARGV[2] consumer group, ARGV[3] min idle ms, ARGV[4] start, ARGV[5] count
  Reply: -1 lease lost | {next cursor, number of entries claimed}
]]
--@include lease_fence.lua
local r = redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[1], ARGV[3], ARGV[4],
                     'COUNT', ARGV[5], 'JUSTID')
return {r[1], #r[2]}
