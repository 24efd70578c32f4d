-- Included by apply_batch.lua and erase_dyad.lua (not a script of its own). A dyad's stored
-- contribution to the therapist summaries (a string of "field value" pairs separated by
-- spaces, analytics/therapist_summary.h's ContributionFields in order) is replaced by the
-- pairs args[from..to] (none when the dyad is erased), and the difference is queued for the
-- therapist's sum of the partition. flush_summaries() adds what is queued with one HINCRBY per
-- sum and field to the therapist's sum, to the tenant's (the sum of its therapists' differences)
-- and, for the field "dyads", to the therapist's dyad count in the tenant's therapist set (one
-- ZINCRBY per therapist), however many dyads of the script changed it: the dyads of one call
-- mostly share their tenant and often their therapist. The Lua work per dyad is kept small
-- (the script's largest cost per dyad after its Redis commands). Writing the same contribution
-- again changes nothing, so a replayed write cannot count twice. Fields that sum to 0 are
-- deleted, so the sums stay small.
local summary_queue, summary_owner = {}, {}
local function replace_summary(contrib_key, therapist_key, tenant_key, therapists_key, therapist,
                               args, from, to, retention)
  local old = redis.call('GET', contrib_key) or ''
  local new_text = ''
  if to >= from then new_text = table.concat(args, ' ', from, to) end
  if old ~= new_text then
    -- Queued for the therapist's sum only, old subtracted and new added in place (no table
    -- per dyad): the tenant's sum and the therapist set follow from it in flush_summaries().
    local fields = summary_queue[therapist_key]
    if not fields then
      fields = {}
      summary_queue[therapist_key] = fields
      summary_owner[therapist_key] = {tenant_key, therapists_key, therapist}
    end
    for f, v in string.gmatch(old, '(%S+) (%S+)') do fields[f] = (fields[f] or 0) - tonumber(v) end
    for i = from, to - 1, 2 do
      local f = args[i]
      fields[f] = (fields[f] or 0) + tonumber(args[i + 1])
    end
  end
  if new_text == '' then
    redis.call('DEL', contrib_key)
  elseif retention > 0 then
    redis.call('SET', contrib_key, new_text, 'PX', retention)
  elseif old ~= new_text then
    redis.call('SET', contrib_key, new_text)
  end
end
local function add_to_sum(key, f, v)
  if redis.call('HINCRBY', key, f, string.format('%.0f', v)) == 0 then
    redis.call('HDEL', key, f)
  end
end
local function flush_summaries()
  local tenants = {}
  for key, fields in pairs(summary_queue) do
    local owner = summary_owner[key]
    local tenant = tenants[owner[1]]
    if not tenant then
      tenant = {}
      tenants[owner[1]] = tenant
    end
    for f, v in pairs(fields) do
      if v ~= 0 then
        add_to_sum(key, f, v)
        tenant[f] = (tenant[f] or 0) + v
        if f == 'dyads' and tonumber(redis.call('ZINCRBY', owner[2], string.format('%.0f', v),
                                                owner[3])) <= 0 then
          redis.call('ZREM', owner[2], owner[3])
        end
      end
    end
  end
  for key, fields in pairs(tenants) do
    for f, v in pairs(fields) do
      if v ~= 0 then add_to_sum(key, f, v) end
    end
  end
  summary_queue, summary_owner = {}, {}
end
