// The worker's writes of one batch, sent as they are built: calls of store/lua/apply_batch.lua
// (built by ApplyBatchCall, store/batch_apply.h) and store/lua/dead_letter.lua (ParkDeadLetter,
// store/dead_letters.h), both fenced by the partition's lease. On a single Redis each call is
// queued and flushed at once, so Redis runs it while the worker computes the next, and replies
// are read only when more than a bound of dyads is in flight; a failure still reads every reply
// owed before it returns, so the connection stays in step. On a Redis Cluster each call is one
// exchange with the primary of its partition's slot, followed there by WAIT when writes must
// reach replicas. Replies come back decoded, in the order the calls were sent.
#ifndef ALLIANCE_STORE_FENCED_WRITES_H_
#define ALLIANCE_STORE_FENCED_WRITES_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/cluster_client.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"

namespace alliance {

// One fenced script call and what the caller needs to match its reply.
struct FencedWrite {
  Script script = Script::kApplyBatch;  // kApplyBatch or kDeadLetter
  int partition = 0;
  std::vector<std::string> keys;  // keys[0] is the partition's lease
  std::vector<std::string> args;
  size_t dyads = 0;  // kApplyBatch: dyads in the call
  size_t tag = 0;    // the caller's, handed back with the reply
};

struct FencedWriteReply {
  bool lease_lost = false;    // nothing was written: the lease names another worker
  std::vector<bool> applied;  // kApplyBatch: per dyad, false when its version had changed
  bool parked = false;        // kDeadLetter: false when the entry was no longer pending
};

// Decodes a reply of `write`'s script; an error reply or another shape is an error status.
absl::StatusOr<FencedWriteReply> DecodeFencedWrite(const FencedWrite& write,
                                                   const redisReply& reply);

// WAIT after writes: how many replicas must have them, and how long to wait.
struct ReplicaWait {
  int replicas = 0;  // 0: no WAIT
  absl::Duration timeout = absl::Seconds(1);
};

class FencedWriter {
 public:
  // Each reply, in the order sent. An error status stops the batch.
  using OnReply = std::function<absl::Status(const FencedWrite&, const FencedWriteReply&)>;
  // Cluster with WAIT: after each call, the replicas that confirmed it; nullopt when WAIT's
  // answer says nothing about the call (a redirection or a new connection in between, or WAIT
  // itself failed).
  using OnReplicas = std::function<void(int partition, std::optional<int64_t> replicas)>;

  // A single Redis, at most `max_dyads_in_flight` dyads' calls awaiting replies.
  FencedWriter(RedisConnection& redis, const ScriptShas& scripts, size_t max_dyads_in_flight,
               OnReply on_reply);
  // A Redis Cluster.
  FencedWriter(ClusterClient& cluster, const ScriptShas& scripts, ReplicaWait wait,
               OnReply on_reply, OnReplicas on_replicas);

  absl::Status Send(FencedWrite write);
  // Reads every reply still owed (single Redis).
  absl::Status Finish();

 private:
  absl::Status Exchange(const FencedWrite& write);
  absl::Status ReceiveOne();
  // After a failure: reads and drops what is still owed.
  absl::Status Fail(absl::Status status);

  RedisConnection* redis_ = nullptr;
  ClusterClient* cluster_ = nullptr;
  const ScriptShas& scripts_;
  size_t max_dyads_in_flight_ = 0;
  ReplicaWait wait_;
  std::string wait_replicas_, wait_ms_;
  OnReply on_reply_;
  OnReplicas on_replicas_;
  std::deque<FencedWrite> in_flight_;
  size_t dyads_in_flight_ = 0;
};

// Single Redis: WAIT for `wait.replicas` replicas, which covers everything this connection
// wrote. The replicas that confirmed; nullopt when WAIT did not answer with a count.
absl::StatusOr<std::optional<int64_t>> WaitForReplicas(RedisConnection& redis,
                                                       const ReplicaWait& wait);

}  // namespace alliance

#endif  // ALLIANCE_STORE_FENCED_WRITES_H_
