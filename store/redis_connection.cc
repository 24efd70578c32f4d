// hiredis wrapper: timeouts everywhere, transport errors as UNAVAILABLE.
#include "store/redis_connection.h"

#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance {
absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisEndpoint& endpoint) {
  redisContext* context = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port,
                                                  absl::ToTimeval(endpoint.connect_timeout));
  if (context == nullptr) return absl::UnavailableError("redis: out of memory allocating context");
  if (context->err != 0) {
    absl::Status status = absl::UnavailableError(
        absl::StrCat("redis ", endpoint.host, ":", endpoint.port, ": ", context->errstr));
    redisFree(context);
    return status;
  }
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
  if (absl::Status s = connection->SetCommandTimeout(endpoint.command_timeout); !s.ok()) return s;
  if (!endpoint.password.empty()) {
    auto reply = connection->Command({"AUTH", endpoint.password});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return absl::UnauthenticatedError("redis: AUTH refused");
    }
  }
  return connection;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

absl::Status RedisConnection::TransportError(std::string_view what) {
  broken_ = true;
  return absl::UnavailableError(
      absl::StrCat("redis ", Absl(what), ": ", context_->errstr[0] ? context_->errstr : "failed"));
}

absl::Status RedisConnection::SetCommandTimeout(absl::Duration timeout) {
  if (redisSetTimeout(context_, absl::ToTimeval(timeout)) != REDIS_OK) {
    return TransportError("set timeout");
  }
  return absl::OkStatus();
}

void RedisConnection::Append(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (std::string_view a : args) {
    argv.push_back(a.data());
    argvlen.push_back(a.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv.data(),
                             argvlen.data()) != REDIS_OK) {
    broken_ = true;
    return;
  }
  ++pending_;
}

void RedisConnection::AppendFormatted(std::string_view resp) {
  if (redisAppendFormattedCommand(context_, resp.data(), resp.size()) != REDIS_OK) {
    broken_ = true;
    return;
  }
  ++pending_;
}

void RedisConnection::AppendEncoded(std::string_view command) {
  // Commands queued before go first. Then the bytes go straight to the socket: the library
  // would copy them into its buffer and, after every partial write, move the rest to its
  // front, which costs more than the write itself for commands of hundreds of kilobytes.
  if (!Flush().ok()) return;
  // Bounded: every round writes something or fails (the socket has the send timeout).
  while (!command.empty()) {
    ssize_t n = write(context_->fd, command.data(), command.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;
      return;
    }
    command.remove_prefix(static_cast<size_t>(n));
  }
  ++pending_;
}

absl::Status RedisConnection::Flush() {
  if (broken_) return absl::UnavailableError("redis connection is broken");
  int done = 0;
  // Bounded: every round writes something or fails (the socket has the send timeout).
  while (!done) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) return TransportError("write");
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisReplyPtr> RedisConnection::GetReply() {
  if (broken_) return absl::UnavailableError("redis connection is broken");
  void* raw = nullptr;
  if (pending_ == 0) {
    // Nothing is owed: reading would wait for the timeout and then take whatever comes next.
    return absl::InternalError("redis: reply read with no command queued");
  }
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    return TransportError("read");
  }
  --pending_;
  return RedisReplyPtr(static_cast<redisReply*>(raw));
}

absl::StatusOr<std::vector<RedisReplyPtr>> RedisConnection::GetReplies(size_t count) {
  if (count > pending_) {
    return absl::InternalError("redis: more replies asked for than commands queued");
  }
  std::vector<RedisReplyPtr> replies;
  replies.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    absl::StatusOr<RedisReplyPtr> reply = GetReply();
    if (!reply.ok()) return reply.status();  // transport error: the connection is broken
    replies.push_back(*std::move(reply));
  }
  return replies;
}

absl::StatusOr<size_t> RedisConnection::DiscardPendingReplies() {
  const size_t owed = pending_;
  // Bounded by the count; each read by the command timeout.
  for (size_t i = 0; i < owed; ++i) {
    if (absl::StatusOr<RedisReplyPtr> reply = GetReply(); !reply.ok()) return reply.status();
  }
  return owed;
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Command(const std::vector<std::string_view>& args) {
  if (pending_ != 0) {
    return absl::InternalError("redis: command sent while pipelined replies are unread");
  }
  Append(args);
  return GetReply();
}

absl::Status ReplyStatus(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) {
    return absl::InternalError(absl::StrCat("redis: ", absl::string_view(reply.str, reply.len)));
  }
  return absl::OkStatus();
}

std::string_view ReplyString(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS ||
      reply.type == REDIS_REPLY_ERROR) {
    return std::string_view(reply.str, reply.len);
  }
  return {};
}

}  // namespace alliance
