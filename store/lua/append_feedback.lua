--[[
  Deduplicates and appends submitted feedback in one atomic step. One call handles several
  submissions of the same partition (all keys share the partition's hash tag), which spreads
  the fixed cost of a script call over them. Submissions are handled in order, so a repeated
  id within one call is a duplicate of the first.
  KEYS[2i-1] idempotency record, KEYS[2i] feedback stream, for submissions i = 1..n
  ARGV[1] expiry of idempotency records in ms, ARGV[2] entry version, then per submission
  four values: content hash, accepted id, tenant, FeedbackEntry bytes
  Reply: a flat array {outcome_1, stream_id_1, ..., outcome_n, stream_id_n} with outcome 0
  appended, 1 retry of the same content (nothing written), 2 the id was used for other content
  (nothing written).
  Records: the feedback entry and the idempotency record of store/feedback_entry.h.
]]
local window, version = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS / 2 do
  local idem, stream = KEYS[2 * i - 1], KEYS[2 * i]
  local a = 2 + (i - 1) * 4
  local hash, accepted = ARGV[a + 1], ARGV[a + 2]
  local record = redis.call('GET', idem)
  if record then
    local first = string.find(record, '|', 1, true)
    local second = string.find(record, '|', first + 1, true)
    out[#out + 1] = (string.sub(record, 1, first - 1) == hash) and 1 or 2
    out[#out + 1] = string.sub(record, first + 1, second - 1)
  else
    local id = redis.call('XADD', stream, '*', 'v', version, 'tenant', ARGV[a + 3],
                          'accepted_id', accepted, 'entry', ARGV[a + 4])
    redis.call('SET', idem, hash .. '|' .. id .. '|' .. accepted, 'PX', window)
    out[#out + 1] = 0
    out[#out + 1] = id
  end
end
return out
