// The worker's Redis (see worker_redis.h).
#include "worker/worker_redis.h"

#include "store/partition_guard.h"

namespace alliance::worker {
namespace {

std::vector<std::string_view> Views(const std::vector<std::string>& args) {
  return std::vector<std::string_view>(args.begin(), args.end());
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerRedis>> WorkerRedis::Connect(const RedisTarget& target,
                                                                  const KeyLayout& layout,
                                                                  absl::Duration extra_read_time) {
  std::unique_ptr<WorkerRedis> redis(new WorkerRedis());
  if (target.cluster) {
    ClusterOptions options = *target.cluster;
    // A command that may have run must not run again behind the worker's back: a fenced read
    // sent twice delivers twice, and the first delivery would sit unread in this worker's
    // pending list. Transport errors end the call; the worker reconnects and re-reads what is
    // pending, as it does with a single Redis.
    options.resend_after_transport_error = false;
    absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
    if (!client.ok()) return client.status();
    redis->cluster_ = *std::move(client);
    redis->executor_ = std::make_unique<ClusterExecutor>(*redis->cluster_);
    if (absl::Status s = CheckPartitionCount(*redis->cluster_, layout); !s.ok()) return s;
    for (size_t i = 0; i < kScriptCount; ++i) {
      absl::StatusOr<std::string> sha =
          redis->cluster_->LoadScript(std::string(ScriptSource(static_cast<Script>(i))));
      if (!sha.ok()) return sha.status();
      redis->shas_.push_back(*std::move(sha));
    }
    return redis;
  }
  RedisEndpoint endpoint = target.single;
  endpoint.command_timeout += extra_read_time;
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn = RedisConnection::Connect(endpoint);
  if (!conn.ok()) return conn.status();
  redis->single_ = *std::move(conn);
  redis->executor_ = std::make_unique<ConnectionExecutor>(*redis->single_);
  if (absl::Status s = CheckPartitionCount(*redis->single_, layout); !s.ok()) return s;
  if (absl::Status s = redis->scripts_.Load(*redis->single_); !s.ok()) return s;
  for (size_t i = 0; i < kScriptCount; ++i) {
    redis->shas_.push_back(redis->scripts_.sha(static_cast<Script>(i)));
  }
  return redis;
}

bool WorkerRedis::unusable() const {
  return single_ != nullptr && (single_->broken() || single_->pending_replies() != 0);
}

absl::StatusOr<std::vector<std::vector<RedisReplyPtr>>> WorkerRedis::Run(
    const std::vector<CommandGroup>& groups) {
  std::vector<SlotCommand> commands;
  for (const CommandGroup& group : groups) {
    const int slot = executor_->SlotOf(group.key);
    for (const std::vector<std::string>& args : group.commands) {
      commands.push_back({slot, Views(args)});
    }
  }
  std::vector<std::vector<RedisReplyPtr>> out(groups.size());
  if (commands.empty()) return out;
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = executor_->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  size_t next = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < groups[g].commands.size(); ++i) {
      out[g].push_back(std::move((*replies)[next++]));
    }
  }
  return out;
}

absl::StatusOr<RedisReplyPtr> WorkerRedis::Command(std::string_view key,
                                                   const std::vector<std::string>& args) {
  return executor_->Command(executor_->SlotOf(key), Views(args));
}

std::vector<std::string> WorkerRedis::Eval(Script script, const std::vector<std::string>& keys,
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
