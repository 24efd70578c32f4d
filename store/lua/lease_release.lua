--[[
  Gives a partition's lease back, if this worker holds it.
  KEYS[1] lease
  ARGV[1] worker id
  Reply: 1 released | 0 not ours
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
