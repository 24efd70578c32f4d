// Appending submitted feedback: intake's one write. One call of store/lua/append_feedback.lua
// (whose header states KEYS, ARGV and the reply) deduplicates and appends several submissions
// of one partition atomically; a round pipelines one call per partition, then WAIT when the
// writes must reach replicas before they are acknowledged. The replies come back decoded: per
// submission an outcome and stream id, per call a Redis error reply (its message, for the
// caller to map) or NOSCRIPT (nothing ran; load the script again and resend). Every reply a
// round asked for is read, error replies included, so the connection stays in step; a
// transport error ends the round and says how many calls were answered before it.
#ifndef ALLIANCE_STORE_FEEDBACK_APPEND_H_
#define ALLIANCE_STORE_FEEDBACK_APPEND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "store/cluster_client.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance {

// One submission as the script takes it (all fields already encoded by the caller).
struct FeedbackSubmission {
  std::string idempotency_key;  // KeyLayout::Idempotency
  std::string stream_key;       // KeyLayout::FeedbackStream of its partition
  std::string content_hash;
  std::string accepted_id;
  std::string tenant_id;
  std::string entry;  // alliance.internal.v1.FeedbackEntry, binary
};

enum class AppendOutcome {
  kAppended = 0,   // written now; stream_id is the new entry
  kDuplicate = 1,  // a retry of the same content: nothing written, stream_id of the first
  kConflict = 2,   // the idempotency id was used for other content: nothing written
};

struct AppendResult {
  AppendOutcome outcome = AppendOutcome::kAppended;
  std::string stream_id;
};

// The answer to one call (one partition's submissions).
struct AppendCallReply {
  enum class Kind {
    kAnswered,    // results: one per submission, in order
    kNoScript,    // the server had lost the script: nothing ran
    kErrorReply,  // Redis refused the call (error: its message); nothing was written
    kMalformed,   // the reply is not the script's (error says so)
  };
  Kind kind = Kind::kAnswered;
  std::vector<AppendResult> results;
  std::string error;
};

// WAIT's answer after a round: how many replicas have everything the connection wrote.
struct ReplicaConfirmation {
  bool asked = false;               // wait_replicas > 0
  std::optional<int64_t> replicas;  // nullopt: WAIT failed or was not answered with a count
  bool confirmed(int wanted) const { return !asked || (replicas && *replicas >= wanted); }
};

// A round on a single Redis.
struct AppendRound {
  // OK, or the transport error that ended the round (the connection is broken then).
  absl::Status transport;
  // The calls answered before the transport error (all of them when it is OK); the
  // submissions of the others may or may not have been written.
  size_t answered = 0;
  std::vector<AppendCallReply> calls;  // `answered` entries
  ReplicaConfirmation wait;            // asked; replicas set only when WAIT was read
};

// One exchange with the primary of one partition's slot on a Redis Cluster.
struct AppendExchange {
  absl::Status status;  // not OK: the cluster could not be reached (UNAVAILABLE and such)
  AppendCallReply call;
  ReplicaConfirmation wait;
};

// Decodes the reply of a call for `count` submissions (kAnswered or kMalformed; an error reply
// is kErrorReply, NOSCRIPT kNoScript).
AppendCallReply DecodeAppendReply(const redisReply& reply, size_t count);

// Holds the loaded script's SHA1 and the round's constant arguments (built once), and a buffer
// reused from call to call. One per writer thread.
class FeedbackAppender {
 public:
  FeedbackAppender(absl::Duration idempotency_window, int wait_replicas,
                   absl::Duration wait_timeout);

  // SCRIPT LOAD of append_feedback.lua. UNAVAILABLE naming Redis's answer when it is refused;
  // a transport error leaves the connection broken.
  absl::Status LoadScript(RedisConnection& redis);
  // On every primary of a cluster (the client reloads it after NOSCRIPT from then on).
  absl::Status LoadScript(ClusterClient& cluster);

  // Single Redis: one call per group of `groups` (each group: submissions of one partition),
  // pipelined, then WAIT when wait_replicas > 0; every reply read.
  AppendRound AppendPipelined(RedisConnection& redis,
                              std::span<const std::span<const FeedbackSubmission* const>> groups);

  // Redis Cluster: the call for one partition's submissions and its WAIT in one exchange with
  // the primary of the partition's slot. WAIT has no key: after a redirection or a transport
  // error during the exchange its count would speak for another node or connection, so the
  // result's `wait.replicas` is left unset (unconfirmed) then.
  AppendExchange AppendOnCluster(RedisExecutor& cluster,
                                 std::span<const FeedbackSubmission* const> group);

 private:
  // Encodes EVALSHA of the script for `group` in RESP at the end of command_.
  void Encode(std::span<const FeedbackSubmission* const> group);

  std::string sha_;
  const std::string window_ms_;
  const int wait_replicas_;
  const std::string wait_replicas_arg_, wait_ms_arg_;
  std::string wait_command_;  // WAIT in RESP, encoded once
  std::string command_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_FEEDBACK_APPEND_H_
