// Intake's dedupe-and-append calls and their replies (see feedback_append.h).
#include "store/feedback_append.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/resp_command.h"

namespace alliance {
namespace {

constexpr std::string_view kMalformed = "redis: unexpected reply of the append script";

AppendCallReply Malformed() {
  AppendCallReply out;
  out.kind = AppendCallReply::Kind::kMalformed;
  out.error = std::string(kMalformed);
  return out;
}

ReplicaConfirmation DecodeWait(const redisReply& reply) {
  ReplicaConfirmation out;
  out.asked = true;
  if (reply.type == REDIS_REPLY_INTEGER) out.replicas = reply.integer;
  return out;
}

}  // namespace

AppendCallReply DecodeAppendReply(const redisReply& reply, size_t count) {
  AppendCallReply out;
  if (reply.type == REDIS_REPLY_ERROR) {
    out.kind =
        IsNoScript(reply) ? AppendCallReply::Kind::kNoScript : AppendCallReply::Kind::kErrorReply;
    out.error = std::string(ReplyString(reply));
    return out;
  }
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2 * count) return Malformed();
  out.results.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const redisReply* code = reply.element[2 * i];
    const redisReply* id = reply.element[2 * i + 1];
    if (code->type != REDIS_REPLY_INTEGER || id->type != REDIS_REPLY_STRING || code->integer < 0 ||
        code->integer > 2) {
      return Malformed();
    }
    out.results[i].outcome = static_cast<AppendOutcome>(code->integer);
    out.results[i].stream_id.assign(id->str, id->len);
  }
  return out;
}

FeedbackAppender::FeedbackAppender(absl::Duration idempotency_window, int wait_replicas,
                                   absl::Duration wait_timeout)
    : window_ms_(absl::StrCat(absl::ToInt64Milliseconds(idempotency_window))),
      wait_replicas_(wait_replicas),
      wait_replicas_arg_(absl::StrCat(wait_replicas)),
      wait_ms_arg_(absl::StrCat(absl::ToInt64Milliseconds(wait_timeout))) {
  RespCommand wait(&wait_command_);
  wait.Begin(3);
  wait.Arg("WAIT");
  wait.Arg(wait_replicas_arg_);
  wait.Arg(wait_ms_arg_);
}

absl::Status FeedbackAppender::LoadScript(RedisConnection& redis) {
  absl::StatusOr<RedisReplyPtr> reply =
      redis.Command({"SCRIPT", "LOAD", ScriptSource(Script::kAppendFeedback)});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_STRING) {
    return absl::UnavailableError(
        absl::StrCat("SCRIPT LOAD refused: ", Absl(ReplyString(**reply))));
  }
  sha_ = std::string(ReplyString(**reply));
  return absl::OkStatus();
}

absl::Status FeedbackAppender::LoadScript(ClusterClient& cluster) {
  absl::StatusOr<std::string> sha =
      cluster.LoadScript(std::string(ScriptSource(Script::kAppendFeedback)));
  if (!sha.ok()) return sha.status();
  sha_ = *std::move(sha);
  return absl::OkStatus();
}

void FeedbackAppender::Encode(std::span<const FeedbackSubmission* const> group) {
  // Straight from the submissions into RESP: no list of argument views per call.
  char key_count[24];
  const std::string_view keys(
      key_count, static_cast<size_t>(
                     std::to_chars(key_count, key_count + sizeof key_count, 2 * group.size()).ptr -
                     key_count));
  RespCommand command(&command_);
  command.Begin(3 + 2 * group.size() + 2 + 4 * group.size());
  command.Arg("EVALSHA");
  command.Arg(sha_);
  command.Arg(keys);
  for (const FeedbackSubmission* s : group) {
    command.Arg(s->idempotency_key);
    command.Arg(s->stream_key);
  }
  command.Arg(window_ms_);
  command.Arg(kEntryVersion);
  for (const FeedbackSubmission* s : group) {
    command.Arg(s->content_hash);
    command.Arg(s->accepted_id);
    command.Arg(s->tenant_id);
    command.Arg(s->entry);
  }
}

AppendRound FeedbackAppender::AppendPipelined(
    RedisConnection& redis, std::span<const std::span<const FeedbackSubmission* const>> groups) {
  for (std::span<const FeedbackSubmission* const> group : groups) {
    command_.clear();
    Encode(group);
    redis.AppendFormatted(command_);
  }
  const bool wait = wait_replicas_ > 0;
  if (wait) redis.AppendFormatted(wait_command_);
  // Keep the buffer for the next round, but not a huge one left by a batch of large messages.
  if (command_.capacity() > (size_t{1} << 20)) std::string().swap(command_);
  AppendRound round;
  round.wait.asked = wait;
  round.calls.reserve(groups.size());
  for (std::span<const FeedbackSubmission* const> group : groups) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) {
      round.transport = reply.status();
      return round;
    }
    round.calls.push_back(DecodeAppendReply(**reply, group.size()));
    ++round.answered;
  }
  if (wait) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) {
      round.transport = reply.status();
      return round;
    }
    round.wait = DecodeWait(**reply);
  }
  return round;
}

AppendExchange FeedbackAppender::AppendOnCluster(RedisExecutor& cluster,
                                                 std::span<const FeedbackSubmission* const> group) {
  AppendExchange out;
  out.wait.asked = wait_replicas_ > 0;

  std::vector<CommandArgs> commands(1);
  CommandArgs& args = commands[0];
  const std::string key_count = absl::StrCat(2 * group.size());
  args.reserve(5 + 6 * group.size());
  args.insert(args.end(), {"EVALSHA", sha_, key_count});
  for (const FeedbackSubmission* s : group)
    args.insert(args.end(), {s->idempotency_key, s->stream_key});
  args.insert(args.end(), {window_ms_, kEntryVersion});
  for (const FeedbackSubmission* s : group) {
    args.insert(args.end(), {s->content_hash, s->accepted_id, s->tenant_id, s->entry});
  }
  if (out.wait.asked) commands.push_back({"WAIT", wait_replicas_arg_, wait_ms_arg_});
  const uint64_t reroutes_before = cluster.reroutes();
  absl::StatusOr<std::vector<RedisReplyPtr>> replies =
      cluster.Exchange(cluster.SlotOf(group.front()->stream_key), commands);
  if (!replies.ok()) {
    out.status = replies.status();
    return out;
  }
  out.call = DecodeAppendReply(*(*replies)[0], group.size());
  if (!out.wait.asked) return out;
  // WAIT has no key, so it stays with the node first asked: after a redirection (the script ran
  // on another primary) or a new connection (which has written nothing) its count says nothing
  // about the script's writes. They stay unconfirmed; the client's retry is answered from the
  // idempotency record and confirmed by a WAIT on the right node.
  if (cluster.reroutes() == reroutes_before) out.wait = DecodeWait(*(*replies)[1]);
  return out;
}

}  // namespace alliance
