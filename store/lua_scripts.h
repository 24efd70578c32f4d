// Alliance's Lua scripts (store/lua/*.lua, one file each, whose header states KEYS, ARGV and
// the reply), embedded at build time, and their loading and calling. Shared pieces are written
// once and included with a `--@include <file>` line: every script through which a worker
// reads, writes or acknowledges for a partition starts with lease_fence.lua, so a worker that
// lost its partition cannot write or acknowledge anything there, even if it has not noticed
// the loss yet. Large fenced reads use a transaction guarded by WATCH on the lease instead
// (store/feedback_reads.h).
#ifndef ALLIANCE_STORE_LUA_SCRIPTS_H_
#define ALLIANCE_STORE_LUA_SCRIPTS_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "analytics/embedded_data.h"
#include "store/redis_connection.h"

namespace alliance {

class ClusterClient;

// One per file of store/lua/ (lease_fence.lua is only included). The contract of each is the
// header of its file.
enum class Script {
  kFencedRead,        // fenced_read.lua
  kFencedClaim,       // fenced_claim.lua
  kApplyBatch,        // apply_batch.lua
  kDeadLetter,        // dead_letter.lua
  kLeaseKeep,         // lease_keep.lua
  kLeaseRelease,      // lease_release.lua
  kHeartbeat,         // heartbeat.lua
  kReplayDeadLetter,  // replay_dead_letter.lua
  kRetireConsumers,   // retire_consumers.lua
  kAppendFeedback,    // append_feedback.lua
  kAcknowledgeAlert,  // acknowledge_alert.lua
  kResolveAlert,      // resolve_alert.lua
  kEraseDyad,         // erase_dyad.lua
  kSnoozeAlert,       // snooze_alert.lua
};
inline constexpr size_t kScriptCount = 14;

// File name of a script, e.g. "apply_batch.lua".
std::string_view ScriptFileName(Script script);

// Source text of a script as sent to Redis: its file with every `--@include` line replaced by
// the named file.
std::string_view ScriptSource(Script script);

// The embedded store/lua/*.lua files, unexpanded, in file-name order (generated at build time).
std::span<const analytics::EmbeddedFile> LuaFiles();

// SHA1s of the scripts once loaded into a Redis server (SCRIPT LOAD). Reload after every
// reconnect: a restarted Redis has an empty script cache.
class ScriptShas {
 public:
  absl::Status Load(RedisConnection& redis);
  // On every primary of a Redis Cluster (ClusterClient::LoadScript, which also registers each
  // script for reloading after NOSCRIPT). The SHA1s are those of a single Redis.
  absl::Status Load(ClusterClient& cluster);
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

}  // namespace alliance

#endif  // ALLIANCE_STORE_LUA_SCRIPTS_H_
