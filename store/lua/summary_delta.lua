-- Included by apply_batch.lua and erase_dyad.lua (not a script of its own). A dyad's stored
-- contribution to the therapist summaries (a hash of integer fields, see
-- analytics/therapist_summary.h) is replaced by `new_pairs` (a flat field, value list; empty
-- when the dyad is erased), and the difference is added, with HINCRBY, to the therapist's and
-- the tenant's sums of the partition; the therapist's dyad count in the tenant's therapist set
-- follows the 'dyads' field. Writing the same contribution again adds nothing, so a replayed
-- write cannot count twice. Fields that sum to 0 are deleted, so the sums stay small.
local function replace_summary(contrib_key, therapist_key, tenant_key, therapists_key, therapist,
                               new_pairs)
  local delta = {}
  local old = redis.call('HGETALL', contrib_key)
  for i = 1, #old, 2 do delta[old[i]] = -tonumber(old[i + 1]) end
  for i = 1, #new_pairs, 2 do
    local f = new_pairs[i]
    delta[f] = (delta[f] or 0) + tonumber(new_pairs[i + 1])
  end
  for f, v in pairs(delta) do
    if v ~= 0 then
      local by = string.format('%.0f', v)
      if redis.call('HINCRBY', therapist_key, f, by) == 0 then redis.call('HDEL', therapist_key, f) end
      if redis.call('HINCRBY', tenant_key, f, by) == 0 then redis.call('HDEL', tenant_key, f) end
      if f == 'dyads' and tonumber(redis.call('ZINCRBY', therapists_key, by, therapist)) <= 0 then
        redis.call('ZREM', therapists_key, therapist)
      end
    end
  end
  redis.call('DEL', contrib_key)
  if #new_pairs > 0 then redis.call('HSET', contrib_key, unpack(new_pairs)) end
end
