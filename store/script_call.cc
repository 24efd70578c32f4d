// Batched script calls (see script_call.h).
#include "store/script_call.h"

namespace alliance {

std::vector<std::string> EvalArgs(const ScriptShas& scripts, Script script,
                                  const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args) {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.push_back(scripts.sha(script));
  command.push_back(std::to_string(keys.size()));
  command.insert(command.end(), keys.begin(), keys.end());
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

void ScriptCalls::Add(Script script, const std::vector<std::string>& keys,
                      const std::vector<std::string>& args) {
  slots_.push_back(redis_.SlotOf(keys.front()));
  commands_.push_back(EvalArgs(scripts_, script, keys, args));
}

absl::StatusOr<std::vector<RedisReplyPtr>> ScriptCalls::Run() {
  if (commands_.empty()) return std::vector<RedisReplyPtr>();
  std::vector<SlotCommand> routed;
  routed.reserve(commands_.size());
  for (size_t i = 0; i < commands_.size(); ++i) {
    routed.push_back({slots_[i], CommandArgs(commands_[i].begin(), commands_[i].end())});
  }
  return redis_.Pipeline(routed);
}

}  // namespace alliance
