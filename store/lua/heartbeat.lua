--[[
  Keeps a worker in the set of live workers (or takes it out), from which each worker derives
  its fair share of partitions. Member scores are expiry times in ms on the Redis server's
  clock, so workers need no synchronized clocks.
  KEYS[1] worker members (sorted set)
  ARGV[1] worker id, ARGV[2] time to live in ms, ARGV[3] '1' to leave
  Reply: the number of live members
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
end
return redis.call('ZCARD', KEYS[1])
