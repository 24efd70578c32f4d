// Dead letters as the worker handles them: parking a feedback entry it could not apply after
// --max_attempts deliveries (store/lua/dead_letter.lua, fenced by the lease; sent with the
// batch's other writes by FencedWriter, store/fenced_writes.h), listing a partition's parked
// entries, and replaying them (store/lua/replay_dead_letter.lua). The entry format is
// store/dead_letter.h; the scripts' headers state KEYS, ARGV and the replies.
#ifndef ALLIANCE_STORE_DEAD_LETTERS_H_
#define ALLIANCE_STORE_DEAD_LETTERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/dead_letter.h"
#include "store/fenced_writes.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_executor.h"
#include "store/stream_entry.h"

namespace alliance {

// The call that parks `entry` of `partition`'s feedback stream, with why and after how many
// deliveries; its reply (FencedWriteReply::parked) is false when the entry was no longer
// pending (parked or applied already: nothing written).
FencedWrite ParkDeadLetter(const KeyLayout& layout, int partition, std::string_view worker_id,
                           const StreamEntry& entry, std::string_view reason, int64_t attempts,
                           size_t tag);

// Up to `limit` parked entries of a partition, oldest first, decoded (INVALID_ARGUMENT for an
// entry that is not a dead letter).
absl::StatusOr<std::vector<DeadLetter>> ListDeadLetters(RedisExecutor& redis,
                                                        const KeyLayout& layout, int partition,
                                                        int64_t limit);

// Moves every entry present in the dead-letter streams when it starts (not those a running
// worker parks again meanwhile, which would loop) back to the end of its partition's feedback
// stream, one atomic script per entry, so a replay that is interrupted and rerun never
// duplicates or loses one. partition < 0: every partition. Returns the number moved.
absl::StatusOr<int64_t> ReplayDeadLetters(RedisExecutor& redis, const ScriptShas& scripts,
                                          const KeyLayout& layout, int partition);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DEAD_LETTERS_H_
