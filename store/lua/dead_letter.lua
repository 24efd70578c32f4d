--[[
  Parks a feedback entry in the partition's dead-letter stream, fenced by the lease. It parks
  only while the entry is still pending: when the same entry was in hand twice (a redelivery or
  claim while a slow first attempt was still failing), the second call finds it acknowledged
  and parks nothing, so a poison entry is never dead-lettered twice.
  KEYS[1] lease, KEYS[2] dead-letter stream, KEYS[3] feedback stream
  ARGV[1] worker id, ARGV[2] consumer group, ARGV[3] source entry id, ARGV[4] reason,
  ARGV[5] attempts, then the feedback entry's field/value pairs (tenant, accepted_id and entry
  are kept)
  Reply: 1 parked | 0 no longer pending (already parked or applied: nothing written)
       | -1 lease lost
]]
--@include lease_fence.lua
if redis.call('XACK', KEYS[3], ARGV[2], ARGV[3]) == 0 then return 0 end
local fields = {'v', '1', 'source_id', ARGV[3], 'reason', ARGV[4], 'attempts', ARGV[5]}
for i = 6, #ARGV, 2 do
  local name = ARGV[i]
  if name == 'tenant' or name == 'accepted_id' or name == 'entry' then
    table.insert(fields, name)
    table.insert(fields, ARGV[i + 1])
  end
end
redis.call('XADD', KEYS[2], '*', unpack(fields))
return 1
