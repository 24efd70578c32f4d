// The worker's Redis executor (see redis_executor.h).
#include "worker/redis_executor.h"

#include <span>

#include "absl/strings/match.h"
#include "common/strings.h"
#include "store/cluster_slot.h"
#include "store/partition_guard.h"

namespace alliance::worker {
namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& args) {
  return std::vector<std::string_view>(args.begin(), args.end());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisExecutor>> RedisExecutor::Connect(
    const RedisTarget& target, const KeyLayout& layout, absl::Duration extra_read_time) {
  std::unique_ptr<RedisExecutor> executor(new RedisExecutor());
  if (target.cluster) {
    ClusterOptions options = *target.cluster;
    // A command that may have run must not run again behind the worker's back: a fenced read
    // sent twice delivers twice, and the first delivery would sit unread in this worker's
    // pending list. Transport errors end the call; the worker reconnects and re-reads what is
    // pending, as it does with a single Redis.
    options.resend_after_transport_error = false;
    absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
    if (!client.ok()) return client.status();
    executor->cluster_ = *std::move(client);
    if (absl::Status s = CheckPartitionCount(*executor->cluster_, layout); !s.ok()) return s;
    for (size_t i = 0; i < kScriptCount; ++i) {
      absl::StatusOr<std::string> sha =
          executor->cluster_->LoadScript(std::string(ScriptSource(static_cast<Script>(i))));
      if (!sha.ok()) return sha.status();
      executor->shas_.push_back(*std::move(sha));
    }
    return executor;
  }
  RedisEndpoint endpoint = target.single;
  endpoint.command_timeout += extra_read_time;
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(endpoint);
  if (!conn.ok()) return conn.status();
  executor->single_ = *std::move(conn);
  if (absl::Status s = CheckPartitionCount(*executor->single_, layout); !s.ok()) return s;
  if (absl::Status s = executor->scripts_.Load(*executor->single_); !s.ok()) return s;
  for (size_t i = 0; i < kScriptCount; ++i) {
    executor->shas_.push_back(executor->scripts_.sha(static_cast<Script>(i)));
  }
  return executor;
}

bool RedisExecutor::unusable() const {
  return single_ != nullptr && (single_->broken() || single_->pending_replies() != 0);
}

absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> RedisExecutor::Run(
    const std::vector<CommandGroup>& groups) {
  std::vector<std::vector<RedisReplyPtr>> out;
  out.reserve(groups.size());
  if (cluster_ != nullptr) {
    for (const CommandGroup& group : groups) {
      std::vector<CommandArgs> commands;
      commands.reserve(group.commands.size());
      for (const std::vector<std::string>& args : group.commands) commands.push_back(Views(args));
      absl::StatusOr<std::vector<RedisReplyPtr>> replies =
          cluster_->Exchange(KeySlot(group.key), commands);
      if (!replies.ok()) return replies.status();
      out.push_back(*std::move(replies));
    }
    return out;
  }
  size_t total = 0;
  for (const CommandGroup& group : groups) {
    for (const std::vector<std::string>& args : group.commands) single_->Append(Views(args));
    total += group.commands.size();
  }
  if (total == 0) {
    out.resize(groups.size());
    return out;
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = single_->GetReplies(total);
  if (!replies.ok()) return replies.status();
  size_t next = 0;
  for (const CommandGroup& group : groups) {
    std::vector<RedisReplyPtr> mine;
    for (size_t i = 0; i < group.commands.size(); ++i)
      mine.push_back(std::move((*replies)[next++]));
    out.push_back(std::move(mine));
  }
  return out;
}

absl::StatusOr<RedisReplyPtr> RedisExecutor::Command(std::string_view key,
                                                     const std::vector<std::string>& args) {
  if (cluster_ != nullptr) return cluster_->Command(KeySlot(key), Views(args));
  return single_->Command(Views(args));
}

std::vector<std::string> RedisExecutor::Eval(Script script, const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) const {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.push_back(shas_[static_cast<size_t>(script)]);
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

}  // namespace alliance::worker
