// The Lua scripts through which the worker changes Redis. Every script that acknowledges
// feedback or writes derived state first checks that the partition lease still names this
// worker (fencing): a worker that lost its partition cannot write or acknowledge anything
// there, even if it has not noticed the loss yet. Reads are fenced too: by kFencedRead for
// small rounds, by a transaction guarded by WATCH on the lease for large ones (worker.cc).
#ifndef ALLIANCE_WORKER_LUA_SCRIPTS_H_
#define ALLIANCE_WORKER_LUA_SCRIPTS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/redis_connection.h"

namespace alliance::worker {

enum class Script {
  // KEYS lease, feedback, erasure counter | ARGV me, group, count, id ('>' or a PEL cursor)
  // -> -1 lease lost | {1, entries, erasure counter} | {0, XREVRANGE of the last entry (empty
  // when none), erasure counter} when '>' found nothing.
  kFencedRead,
  // KEYS lease, feedback | ARGV me, group, min_idle_ms, start, count
  // -> -1 lease lost | {next cursor, entries claimed}.
  kFencedClaim,
  // KEYS lease, alerts, feedback, erasure counter, then per dyad: head, log, index
  // ARGV me, group, dyad count, erasure counter when the entries were read ('0' if unset), then
  //      per dyad: expected version ('' = any), head ('' = write nothing), log mode ('a':
  //      append the log bytes, 'r': replace the log with them), log bytes, index member
  //      ('' = none), alert count n, if n > 0: tenant, therapist, client and
  //      n * (alert_id, kind, severity, json), ack count m, m ids; then count k, k more ids
  //      to acknowledge unconditionally (deleted entries); last, the retention in ms (0: none)
  //      set as the TTL of every head and log written and of its index (with 0, a log
  //      appended to keeps the expiry it had).
  // -> -1 lease lost | per dyad: 1 applied, -2 version changed (nothing written or acked).
  //    A dyad one of whose entries no longer exists in the stream (erased by
  //    DeleteClientData while in flight) is acknowledged without writing anything (still 1).
  //    The per-entry existence check only runs when the erasure counter moved since the read:
  //    DeleteClientData increments it in the same transaction as it deletes entries.
  kApplyBatch,
  // KEYS lease, deadletter, feedback | ARGV me, group, source id, reason, attempts, then the
  // feedback entry's field/value pairs -> 1 parked | 0 no longer pending (already parked or
  // applied: nothing written) | -1 lease lost.
  kDeadLetter,
  // KEYS lease | ARGV me, ttl_ms -> 1 renewed | 2 newly taken (it was free) | 0 held by
  // another worker.
  kLeaseKeep,
  // KEYS lease | ARGV me -> 1 released | 0 not ours.
  kLeaseRelease,
  // KEYS members | ARGV me, ttl_ms, leave ('1' removes me) -> live member count.
  kHeartbeat,
  // KEYS deadletter, feedback | ARGV dead-letter id -> 1 moved | 0 gone.
  kReplayDeadLetter,
  // KEYS lease, feedback | ARGV me, group, idle_ms, limit -> -1 lease lost | consumers removed:
  // those other than me with no pending entry, idle for at least idle_ms; at most limit.
  kRetireConsumers,
};

// Source text of a script.
std::string_view ScriptSource(Script script);

// SHA1s of the scripts once loaded into a Redis server (SCRIPT LOAD). Reload after every
// reconnect: a restarted Redis has an empty script cache.
class ScriptShas {
 public:
  absl::Status Load(RedisConnection& redis);
  const std::string& sha(Script script) const { return shas_[static_cast<size_t>(script)]; }

  // Queues EVALSHA of `script` on `redis` (pipelining): sent with the connection's next Flush
  // or GetReply, together with whatever else was queued (a large command goes out at once).
  void Append(RedisConnection& redis, Script script, const std::vector<std::string_view>& keys,
              const std::vector<std::string_view>& args) const;
  // The same for arguments held as strings (no list of views to build).
  void AppendStrings(RedisConnection& redis, Script script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> shas_;
  // Scratch buffer of the command being queued (one ScriptShas per connection and thread).
  mutable std::string command_;  // encoding buffer, reused from command to command
};

// True when an error reply says the script cache lost our scripts (reload and retry).
bool IsNoScript(const redisReply& reply);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_LUA_SCRIPTS_H_
