--[[
  Takes a partition's lease when it is free, or renews it when this worker holds it.
  KEYS[1] lease
  ARGV[1] worker id, ARGV[2] lease time to live in ms
  Reply: 1 renewed | 2 newly taken (it was free) | 0 held by another worker
]]
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 2
