// The two executors of redis_executor.h.
#include "store/redis_executor.h"

#include <map>
#include <string>

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

namespace {

// One exchange per slot for every command whose reply is still missing in `replies`.
absl::StatusOr<std::vector<RedisReplyPtr>> ExchangePerSlot(ClusterClient& cluster,
                                                           std::span<const SlotCommand> commands,
                                                           std::vector<RedisReplyPtr> replies) {
  std::map<int, std::vector<size_t>> left;  // slot -> commands without a reply
  for (size_t i = 0; i < commands.size(); ++i) {
    if (replies[i] == nullptr) left[commands[i].slot].push_back(i);
  }
  for (const auto& [slot, indexes] : left) {
    std::vector<CommandArgs> group;
    group.reserve(indexes.size());
    for (size_t i : indexes) group.push_back(commands[i].args);
    absl::StatusOr<std::vector<RedisReplyPtr>> got = cluster.Exchange(slot, group);
    if (!got.ok()) return got.status();
    for (size_t k = 0; k < indexes.size(); ++k) replies[indexes[k]] = std::move((*got)[k]);
  }
  return replies;
}

}  // namespace

absl::StatusOr<std::vector<RedisReplyPtr>> ClusterExecutor::Pipeline(
    std::span<const SlotCommand> commands) {
  std::vector<RedisReplyPtr> replies(commands.size());
  return ExchangePerSlot(cluster_, commands, std::move(replies));
}

absl::StatusOr<std::vector<RedisReplyPtr>> ClusterExecutor::ReadPipeline(
    std::span<const SlotCommand> commands) {
  std::vector<RedisReplyPtr> replies(commands.size());
  std::map<int, std::vector<size_t>> by_slot;
  for (size_t i = 0; i < commands.size(); ++i) by_slot[commands[i].slot].push_back(i);
  if (by_slot.size() > 1) {
    // Fast path: one pipeline per primary of the current map, so that commands of many slots
    // (a partition each, or status hashes spread over the slots) cost a round trip per node
    // rather than per slot. A command answered with an error reply (a redirection, TRYAGAIN,
    // or an error of its own), or on a node the walk did not reach, is sent again below in an
    // exchange of its slot, which follows the Cluster protocol: hence reads and idempotent
    // writes only.
    std::map<std::string, std::vector<size_t>> by_node;  // "host:port" -> commands
    for (size_t i = 0; i < commands.size(); ++i) {
      if (const NodeAddress* primary = cluster_.map().PrimaryOf(commands[i].slot)) {
        by_node[primary->ToString()].push_back(i);
      }
    }
    // A failed walk leaves the rest to the exchanges below.
    (void)cluster_.ForEachPrimary([&](const NodeAddress& node, RedisConnection& connection) {
      auto it = by_node.find(node.ToString());
      if (it == by_node.end()) return absl::OkStatus();
      for (size_t i : it->second) connection.Append(commands[i].args);
      absl::StatusOr<std::vector<RedisReplyPtr>> got = connection.GetReplies(it->second.size());
      if (!got.ok()) return got.status();
      for (size_t k = 0; k < it->second.size(); ++k) {
        if ((*got)[k]->type != REDIS_REPLY_ERROR) replies[it->second[k]] = std::move((*got)[k]);
      }
      return absl::OkStatus();
    });
  }
  return ExchangePerSlot(cluster_, commands, std::move(replies));
}

absl::Status ClusterExecutor::ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) {
  return cluster_.ForEachPrimary(
      [&fn](const NodeAddress&, RedisConnection& connection) { return fn(connection); });
}

uint64_t ClusterExecutor::reroutes() const {
  const ClusterStats& stats = cluster_.stats();
  return stats.moved + stats.ask + stats.transport_errors;
}

}  // namespace alliance
