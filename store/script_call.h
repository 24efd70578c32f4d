// Script calls (EVALSHA of store/lua scripts) batched for one RedisExecutor::Pipeline: a single
// Redis gets them in one round trip, a cluster one exchange per slot, each routed by its first
// key (a script's keys share a slot). The store's operations build their calls with it and
// decode the replies themselves; every reply is read, error replies included.
#ifndef ALLIANCE_STORE_SCRIPT_CALL_H_
#define ALLIANCE_STORE_SCRIPT_CALL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance {

// The EVALSHA arguments of one call of `script`.
std::vector<std::string> EvalArgs(const ScriptShas& scripts, Script script,
                                  const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);

class ScriptCalls {
 public:
  ScriptCalls(RedisExecutor& redis, const ScriptShas& scripts) : redis_(redis), scripts_(scripts) {}

  // `keys` must not be empty.
  void Add(Script script, const std::vector<std::string>& keys,
           const std::vector<std::string>& args);
  size_t size() const { return commands_.size(); }

  // One reply per call, in the order added.
  absl::StatusOr<std::vector<RedisReplyPtr>> Run();

 private:
  RedisExecutor& redis_;
  const ScriptShas& scripts_;
  std::vector<int> slots_;
  std::vector<std::vector<std::string>> commands_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_SCRIPT_CALL_H_
