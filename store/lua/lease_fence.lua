--[[
  The lease fence, included by every script through which a worker reads, writes or
  acknowledges for a partition: a worker that lost its partition's lease changes nothing there,
  even if it has not noticed the loss yet.
  Expects: KEYS[1] the partition's lease, ARGV[1] the calling worker's id.
  Returns -1 from the including script when the lease names someone else (or no one).
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
