--[[
  Marks an alert resolved unless it is resolved already, and ends a snooze that has not been
  ended yet (snooze_ended_at; the snooze's fields stay).
  KEYS[1] the alert's status hash
  ARGV[1] who, ARGV[2] when (RFC 3339)
  Reply: the status hash after the change (HGETALL)
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'resolved' then
  redis.call('HSET', KEYS[1], 'status', 'resolved', 'by', ARGV[1], 'at', ARGV[2],
             'resolved_by', ARGV[1], 'resolved_at', ARGV[2])
  if redis.call('HEXISTS', KEYS[1], 'snoozed_until') == 1 and
      redis.call('HEXISTS', KEYS[1], 'snooze_ended_at') == 0 then
    redis.call('HSET', KEYS[1], 'snooze_ended_at', ARGV[2])
  end
end
return redis.call('HGETALL', KEYS[1])
