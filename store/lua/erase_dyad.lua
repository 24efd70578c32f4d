--[[
  Erases one dyad's record for DeleteClientData (store/client_erasure.h): subtracts its
  contribution from the therapist summaries (summary_delta.lua) and deletes its head, log and
  summary and its member of the tenant's dyad index, all at once, so no summary ever counts a
  dyad that is gone. Not fenced: erasure is not a worker's write (the worker's apply script
  refuses to re-create an erased dyad; see apply_batch.lua).
  KEYS[1] head, KEYS[2] log, KEYS[3] dyad summary, KEYS[4] therapist summary, KEYS[5] tenant
       summary, KEYS[6] tenant's therapist set, KEYS[7] tenant's dyad index, KEYS[8] the
       partition's disengagement watch
  ARGV[1] therapist id, ARGV[2] index member ("therapist:client"), ARGV[3] disengagement watch
       member (store/disengagement_watch.h)
  Reply: {records deleted (1 when the head or the log existed, else 0), index members removed}
]]
--@include summary_delta.lua
replace_summary(KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[1], ARGV, 1, 0, 0)
flush_summaries()
local deleted = redis.call('DEL', KEYS[1], KEYS[2])
local removed = redis.call('ZREM', KEYS[7], ARGV[2])
redis.call('ZREM', KEYS[8], ARGV[3])
if deleted > 0 then deleted = 1 end
return {deleted, removed}
