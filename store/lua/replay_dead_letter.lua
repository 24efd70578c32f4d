--[[
  Moves one parked entry from the dead-letter stream back to the feedback stream, as a new
  entry with the original tenant, accepted id and entry bytes.
  KEYS[1] dead-letter stream, KEYS[2] feedback stream
  ARGV[1] dead-letter entry id
  Reply: 1 moved | 0 gone
]]
local r = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #r == 0 then return 0 end
local f = r[1][2]
local out = {'v', '1'}
for i = 1, #f, 2 do
  if f[i] == 'tenant' or f[i] == 'accepted_id' or f[i] == 'entry' then
    table.insert(out, f[i])
    table.insert(out, f[i + 1])
  end
end
redis.call('XADD', KEYS[2], '*', unpack(out))
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
