--[[
  Marks an alert acknowledged unless it already has a status (acknowledged or resolved), and
  ends a snooze that has not been ended yet (snooze_ended_at; the snooze's fields stay).
  KEYS[1] the alert's status hash
  ARGV[1] who, ARGV[2] when (RFC 3339)
  Reply: the status hash after the change (HGETALL)
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  redis.call('HSET', KEYS[1], 'status', 'acknowledged', 'by', ARGV[1], 'at', ARGV[2],
             'acknowledged_by', ARGV[1], 'acknowledged_at', ARGV[2])
end
if status ~= 'resolved' and redis.call('HEXISTS', KEYS[1], 'snoozed_until') == 1 and
    redis.call('HEXISTS', KEYS[1], 'snooze_ended_at') == 0 then
  redis.call('HSET', KEYS[1], 'snooze_ended_at', ARGV[2])
end
return redis.call('HGETALL', KEYS[1])
