// Sending a batch's fenced writes (see fenced_writes.h).
#include "store/fenced_writes.h"

#include <algorithm>
#include <span>

#include "absl/strings/str_cat.h"
#include "store/cluster_slot.h"
#include "store/script_call.h"

namespace alliance {
namespace {

// What a call weighs in the send window: its dyads (at least 1: a dead letter, an
// acknowledgement of deleted entries).
size_t Weight(const FencedWrite& write) { return std::max<size_t>(1, write.dyads); }

}  // namespace

absl::StatusOr<FencedWriteReply> DecodeFencedWrite(const FencedWrite& write, const redisReply& r) {
  if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
  FencedWriteReply out;
  if (r.type == REDIS_REPLY_INTEGER && r.integer == -1) {
    out.lease_lost = true;
    return out;
  }
  if (write.script == Script::kDeadLetter) {
    if (r.type != REDIS_REPLY_INTEGER || (r.integer != 0 && r.integer != 1)) {
      return absl::InternalError("unexpected dead letter reply");
    }
    out.parked = r.integer == 1;
    return out;
  }
  if (r.type != REDIS_REPLY_ARRAY || r.elements != write.dyads) {
    return absl::InternalError("unexpected apply reply");
  }
  out.applied.resize(write.dyads);
  for (size_t d = 0; d < write.dyads; ++d) {
    if (r.element[d]->type != REDIS_REPLY_INTEGER) {
      return absl::InternalError("unexpected apply reply");
    }
    out.applied[d] = r.element[d]->integer == 1;
  }
  return out;
}

FencedWriter::FencedWriter(RedisConnection& redis, const ScriptShas& scripts,
                           size_t max_dyads_in_flight, OnReply on_reply)
    : redis_(&redis),
      scripts_(scripts),
      max_dyads_in_flight_(max_dyads_in_flight),
      on_reply_(std::move(on_reply)) {}

FencedWriter::FencedWriter(ClusterClient& cluster, const ScriptShas& scripts, ReplicaWait wait,
                           OnReply on_reply, OnReplicas on_replicas)
    : cluster_(&cluster),
      scripts_(scripts),
      wait_(wait),
      wait_replicas_(absl::StrCat(wait.replicas)),
      wait_ms_(absl::StrCat(absl::ToInt64Milliseconds(wait.timeout))),
      on_reply_(std::move(on_reply)),
      on_replicas_(std::move(on_replicas)) {}

absl::Status FencedWriter::Send(FencedWrite write) {
  if (cluster_ != nullptr) return Exchange(write);
  scripts_.AppendStrings(*redis_, write.script, write.keys, write.args);
  dyads_in_flight_ += Weight(write);
  in_flight_.push_back(std::move(write));
  if (absl::Status s = redis_->Flush(); !s.ok()) return s;
  while (dyads_in_flight_ > max_dyads_in_flight_) {
    if (absl::Status s = ReceiveOne(); !s.ok()) return Fail(s);
  }
  return absl::OkStatus();
}

absl::Status FencedWriter::Finish() {
  while (!in_flight_.empty()) {
    if (absl::Status s = ReceiveOne(); !s.ok()) return Fail(s);
  }
  return absl::OkStatus();
}

absl::Status FencedWriter::ReceiveOne() {
  absl::StatusOr<RedisReplyPtr> reply = redis_->GetReply();
  if (!reply.ok()) return reply.status();
  FencedWrite write = std::move(in_flight_.front());
  in_flight_.pop_front();
  dyads_in_flight_ -= Weight(write);
  absl::StatusOr<FencedWriteReply> decoded = DecodeFencedWrite(write, **reply);
  if (!decoded.ok()) return decoded.status();
  return on_reply_(write, *decoded);
}

absl::Status FencedWriter::Fail(absl::Status status) {
  in_flight_.clear();
  dyads_in_flight_ = 0;
  if (!redis_->broken()) (void)redis_->DiscardPendingReplies();
  return status;
}

// The call and WAIT in one exchange with the primary of the partition's slot. WAIT has no key,
// so it stays with the node first asked: after a redirection (the script ran elsewhere) or a
// transport error (a new connection has written nothing) its answer says nothing about the
// script's writes, which then count as unconfirmed.
absl::Status FencedWriter::Exchange(const FencedWrite& write) {
  const bool wait = wait_.replicas > 0;
  const ClusterStats before = cluster_->stats();
  std::vector<std::string> eval = EvalArgs(scripts_, write.script, write.keys, write.args);
  std::vector<CommandArgs> commands = {CommandArgs(eval.begin(), eval.end())};
  if (wait) commands.push_back({"WAIT", wait_replicas_, wait_ms_});
  absl::StatusOr<std::vector<RedisReplyPtr>> replies =
      cluster_->Exchange(KeySlot(write.keys.front()), commands);
  if (!replies.ok()) return replies.status();
  absl::StatusOr<FencedWriteReply> decoded = DecodeFencedWrite(write, *(*replies)[0]);
  if (!decoded.ok()) return decoded.status();
  if (absl::Status s = on_reply_(write, *decoded); !s.ok() || !wait) return s;
  const ClusterStats& after = cluster_->stats();
  const bool rerouted = after.moved != before.moved || after.ask != before.ask ||
                        after.transport_errors != before.transport_errors;
  const redisReply& answer = *(*replies)[1];
  std::optional<int64_t> replicas;
  if (!rerouted && answer.type == REDIS_REPLY_INTEGER) replicas = answer.integer;
  on_replicas_(write.partition, replicas);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> WaitForReplicas(RedisConnection& redis,
                                                       const ReplicaWait& wait) {
  absl::StatusOr<RedisReplyPtr> reply =
      redis.Command({"WAIT", std::to_string(wait.replicas),
                     std::to_string(absl::ToInt64Milliseconds(wait.timeout))});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_INTEGER) return std::optional<int64_t>();
  return std::optional<int64_t>((*reply)->integer);
}

}  // namespace alliance
