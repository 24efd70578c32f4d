--[[
  Marks an alert acknowledged unless it already has a status (acknowledged or resolved).
  KEYS[1] the alert's status hash
  ARGV[1] who, ARGV[2] when (RFC 3339)
  Reply: the status hash after the change (HGETALL)
]]
if not redis.call('HGET', KEYS[1], 'status') then
  redis.call('HSET', KEYS[1], 'status', 'acknowledged', 'by', ARGV[1], 'at', ARGV[2],
             'acknowledged_by', ARGV[1], 'acknowledged_at', ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
