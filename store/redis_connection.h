// A synchronous hiredis connection with timeouts on connect and on every command, and
// pipelining. One connection belongs to one thread. Transport failures are UNAVAILABLE and
// leave the connection broken (callers reconnect); Redis error replies are returned as replies.
//
// Pipelining contract: every queued command has exactly one reply, and replies arrive in order.
// The connection counts the replies still owed (pending_replies()); a caller that stops reading
// early (say, at an error reply) would leave them for the next user of the connection, who would
// then read someone else's replies. So: read a pipeline with GetReplies (every reply, error
// replies included), and whoever hands a connection from one job to the next calls
// DiscardPendingReplies first (see insights' RedisPool). Command refuses to run while replies are
// owed rather than return a stale one.
#ifndef ALLIANCE_STORE_REDIS_CONNECTION_H_
#define ALLIANCE_STORE_REDIS_CONNECTION_H_

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace alliance {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // empty: no AUTH
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
};

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  // Connects (and AUTHs when a password is set) within the connect timeout.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(const RedisEndpoint& endpoint);

  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command and waits for its reply (bounded by the command timeout). INTERNAL,
  // without sending anything, while replies of pipelined commands are still unread.
  absl::StatusOr<RedisReplyPtr> Command(const std::vector<std::string_view>& args);

  // Pipelining: queue commands with Append, then read one reply per command with GetReply.
  void Append(const std::vector<std::string_view>& args);
  absl::StatusOr<RedisReplyPtr> GetReply();
  // Reads the replies of the next `count` queued commands, all of them, whatever each says:
  // an error reply is one of the returned replies, so the connection stays in step. Fails only
  // on transport errors (the connection is then broken), or INTERNAL when fewer than `count`
  // commands are queued (nothing is read then).
  absl::StatusOr<std::vector<RedisReplyPtr>> GetReplies(size_t count);
  // Replies still owed for commands queued on this connection.
  size_t pending_replies() const { return pending_; }
  // Reads and drops every owed reply (bounded by their count and the command timeout), so the
  // next caller starts in step; returns how many were dropped. On a transport error the
  // connection is broken and must be replaced.
  absl::StatusOr<size_t> DiscardPendingReplies();
  // Pipelining a small command the caller already encoded in RESP: queued in the client
  // library's buffer like Append (sent together with the others at the next GetReply or
  // Flush), without Append's per-argument formatting.
  void AppendFormatted(std::string_view resp);
  // Pipelines a command already encoded in the Redis protocol (RESP array of bulk strings),
  // for callers that build large commands in a buffer of their own instead of an argument
  // list. It is written to the socket at once (after what Append queued) instead of being
  // copied into the client library's output buffer; read its reply with GetReply as usual.
  void AppendEncoded(std::string_view command);
  // Sends the queued commands now without waiting for replies, so Redis works on them while the
  // caller prepares the next ones (GetReply would send them too, but only when it is called).
  absl::Status Flush();

  // Changes the read timeout, e.g. above the BLOCK time of XREADGROUP.
  absl::Status SetCommandTimeout(absl::Duration timeout);

  // True after a transport error: the connection must be replaced.
  bool broken() const { return broken_; }

 private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  absl::Status TransportError(std::string_view what);

  redisContext* context_;
  bool broken_ = false;
  size_t pending_ = 0;  // queued commands whose replies have not been read
};

// Status of an error reply (INTERNAL naming the Redis message), OK otherwise.
absl::Status ReplyStatus(const redisReply& reply);

// Reply payload as a string_view (status, string, error replies); empty otherwise.
std::string_view ReplyString(const redisReply& reply);

}  // namespace alliance

#endif  // ALLIANCE_STORE_REDIS_CONNECTION_H_
