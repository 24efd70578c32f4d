-- Included by apply_batch.lua and erase_dyad.lua (not a script of its own). A dyad's stored
-- contribution to the therapist summaries (a string of "field value" pairs separated by
-- spaces, analytics/therapist_summary.h's ContributionFields in order) is replaced by the
-- pairs args[from..to] (none when the dyad is erased), and the difference is queued for the
-- therapist's and the tenant's sums of the partition and for the therapist's dyad count in the
-- tenant's therapist set. flush_summaries() applies what is queued with one HINCRBY per sum and field
-- (and one ZINCRBY per therapist), however many dyads of the script changed it: the dyads of
-- one call mostly share their tenant and often their therapist. Writing the same contribution
-- again changes nothing, so a replayed write cannot count twice. Fields that sum to 0 are
-- deleted, so the sums stay small.
local summary_queue, summary_sets = {}, {}
local function queue_summary(key, field, v)
  local fields = summary_queue[key]
  if not fields then
    fields = {}
    summary_queue[key] = fields
  end
  fields[field] = (fields[field] or 0) + v
end
local function replace_summary(contrib_key, therapist_key, tenant_key, therapists_key, therapist,
                               args, from, to, retention)
  local old = redis.call('GET', contrib_key) or ''
  local new_text = ''
  if to >= from then new_text = table.concat(args, ' ', from, to) end
  if old ~= new_text then
    local delta = {}
    for f, v in string.gmatch(old, '(%S+) (%S+)') do delta[f] = -tonumber(v) end
    for i = from, to - 1, 2 do
      local f = args[i]
      delta[f] = (delta[f] or 0) + tonumber(args[i + 1])
    end
    for f, v in pairs(delta) do
      if v ~= 0 then
        queue_summary(therapist_key, f, v)
        queue_summary(tenant_key, f, v)
        if f == 'dyads' then
          local set = summary_sets[therapists_key]
          if not set then
            set = {}
            summary_sets[therapists_key] = set
          end
          set[therapist] = (set[therapist] or 0) + v
        end
      end
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
local function flush_summaries()
  for key, fields in pairs(summary_queue) do
    for f, v in pairs(fields) do
      if v ~= 0 and redis.call('HINCRBY', key, f, string.format('%.0f', v)) == 0 then
        redis.call('HDEL', key, f)
      end
    end
  end
  for key, therapists in pairs(summary_sets) do
    for therapist, v in pairs(therapists) do
      if v ~= 0 and
          tonumber(redis.call('ZINCRBY', key, string.format('%.0f', v), therapist)) <= 0 then
        redis.call('ZREM', key, therapist)
      end
    end
  end
  summary_queue, summary_sets = {}, {}
end
