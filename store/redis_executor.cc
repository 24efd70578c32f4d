// The two executors of redis_executor.h.
#include "store/redis_executor.h"

#include <map>

#include "store/cluster_slot.h"

namespace alliance {

absl::StatusOr<RedisReplyPtr> RedisExecutor::Command(int slot, const CommandArgs& args) {
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = Exchange(slot, {&args, 1});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<std::vector<RedisReplyPtr>> ConnectionExecutor::Exchange(
    int /*slot*/, std::span<const CommandArgs> commands) {
  for (const CommandArgs& args : commands) redis_.Append(args);
  return redis_.GetReplies(commands.size());
}

absl::StatusOr<std::vector<RedisReplyPtr>> ConnectionExecutor::Pipeline(
    std::span<const SlotCommand> commands) {
  for (const SlotCommand& c : commands) redis_.Append(c.args);
  return redis_.GetReplies(commands.size());
}

absl::Status ConnectionExecutor::ForEachPrimary(
    absl::FunctionRef<absl::Status(RedisConnection&)> fn) {
  return fn(redis_);
}

int ClusterExecutor::SlotOf(std::string_view key) const { return KeySlot(key); }

absl::StatusOr<std::vector<RedisReplyPtr>> ClusterExecutor::Exchange(
    int slot, std::span<const CommandArgs> commands) {
  if (commands.empty()) return std::vector<RedisReplyPtr>();
  return cluster_.Exchange(slot, commands);
}

absl::StatusOr<std::vector<RedisReplyPtr>> ClusterExecutor::Pipeline(
    std::span<const SlotCommand> commands) {
  // Grouped by slot, in the order each slot first appears (std::map orders by slot, which is
  // as good: replies go back to their command's place).
  std::map<int, std::vector<size_t>> by_slot;
  for (size_t i = 0; i < commands.size(); ++i) by_slot[commands[i].slot].push_back(i);
  std::vector<RedisReplyPtr> replies(commands.size());
  for (const auto& [slot, indexes] : by_slot) {
    std::vector<CommandArgs> group;
    group.reserve(indexes.size());
    for (size_t i : indexes) group.push_back(commands[i].args);
    absl::StatusOr<std::vector<RedisReplyPtr>> got = cluster_.Exchange(slot, group);
    if (!got.ok()) return got.status();
    for (size_t k = 0; k < indexes.size(); ++k) replies[indexes[k]] = std::move((*got)[k]);
  }
  return replies;
}

absl::Status ClusterExecutor::ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) {
  return cluster_.ForEachPrimary(
      [&fn](const NodeAddress&, RedisConnection& connection) { return fn(connection); });
}

}  // namespace alliance
