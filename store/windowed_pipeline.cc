// Windowed pipelining over a RedisExecutor (see windowed_pipeline.h).
#include "store/windowed_pipeline.h"

#include <algorithm>
#include <string_view>

namespace alliance {
namespace {

CommandArgs Views(const std::vector<std::string>& args) {
  return CommandArgs(args.begin(), args.end());
}

}  // namespace

absl::Status RunWindowed(RedisExecutor& redis, size_t count, size_t window,
                         absl::FunctionRef<void(size_t, KeyedCommand&)> command_of,
                         absl::FunctionRef<absl::Status(size_t, const redisReply&)> on_reply) {
  if (count == 0) return absl::OkStatus();
  auto* single = dynamic_cast<ConnectionExecutor*>(&redis);
  if (single == nullptr) {
    // A cluster: one exchange per slot, every command at once.
    std::vector<KeyedCommand> commands(count);
    std::vector<SlotCommand> routed(count);
    for (size_t i = 0; i < count; ++i) {
      command_of(i, commands[i]);
      routed[i] = {redis.SlotOf(commands[i].key), Views(commands[i].args)};
    }
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.Pipeline(routed);
    if (!replies.ok()) return replies.status();
    for (size_t i = 0; i < count; ++i) {
      if (absl::Status s = on_reply(i, *(*replies)[i]); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // A sliding window: after each reply the next command is queued, and hiredis sends it with
  // the next read, so Redis works on the commands in flight while the next one is built.
  RedisConnection& connection = single->connection();
  KeyedCommand command;
  auto append = [&](size_t i) {
    command.key.clear();
    command.args.clear();
    command_of(i, command);
    connection.Append(Views(command.args));
  };
  absl::Status first_error = absl::OkStatus();
  size_t queued = std::min(count, std::max<size_t>(window, 1));
  for (size_t i = 0; i < queued; ++i) append(i);
  for (size_t i = 0; i < queued; ++i) {
    absl::StatusOr<RedisReplyPtr> reply = connection.GetReply();
    if (!reply.ok()) return reply.status();
    if (first_error.ok()) first_error = on_reply(i, **reply);
    if (first_error.ok() && queued < count) append(queued++);
  }
  return first_error;
}

}  // namespace alliance
