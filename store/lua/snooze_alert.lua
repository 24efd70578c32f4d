--[[
  Snoozes an alert unless it is resolved: sets who, when, until and why of the snooze (a
  snooze replaces the one before, the latest wins) and clears the mark of an ended snooze.
  The workflow status (open, acknowledged) is left as it is: once `until` has passed the alert
  reads as that status again (store/alert_status_hash.h decides at read time).
  KEYS[1] the alert's status hash
  ARGV[1] who, ARGV[2] when (RFC 3339), ARGV[3] until (RFC 3339), ARGV[4] reason
  Reply: the status hash after the change (HGETALL); unchanged for a resolved alert
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'resolved' then
  redis.call('HSET', KEYS[1], 'by', ARGV[1], 'at', ARGV[2], 'snoozed_by', ARGV[1],
             'snoozed_at', ARGV[2], 'snoozed_until', ARGV[3], 'snooze_reason', ARGV[4])
  redis.call('HDEL', KEYS[1], 'snooze_ended_at')
end
return redis.call('HGETALL', KEYS[1])
