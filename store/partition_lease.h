// A worker's hold on partitions: the fenced lease of each partition (store/lua/lease_keep.lua,
// lease_release.lua) and its place in the set of live workers (store/lua/heartbeat.lua), from
// which it derives its fair share. The scripts' headers state KEYS, ARGV and the replies; here
// they come back as typed values, and any other reply (an error reply, a wrong type) is an
// error status. See docs/worker.md, Partition ownership.
#ifndef ALLIANCE_STORE_PARTITION_LEASE_H_
#define ALLIANCE_STORE_PARTITION_LEASE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_executor.h"

namespace alliance {

// What lease_keep.lua did.
enum class LeaseKeep {
  kHeldByAnother = 0,  // nothing changed
  kRenewed = 1,        // it was ours
  kTaken = 2,          // it was free (or had expired): another worker may have held it meanwhile
};

// The worker's identity and lease time, the same in every call of one worker.
struct LeaseHolder {
  std::string_view worker_id;
  absl::Duration ttl;  // of the lease and of the membership
};

struct LeaseRenewals {
  int64_t live_workers = 0;       // members of the live set, this worker included
  std::vector<LeaseKeep> leases;  // one per partition asked for, in order
};

// The heartbeat and a renewal of each lease of `partitions`, pipelined (one exchange per slot
// on a cluster).
absl::StatusOr<LeaseRenewals> RenewLeases(RedisExecutor& redis, const ScriptShas& scripts,
                                          const KeyLayout& layout, const LeaseHolder& holder,
                                          std::span<const int> partitions);

// Takes (or renews) one partition's lease.
absl::StatusOr<LeaseKeep> KeepLease(RedisExecutor& redis, const ScriptShas& scripts,
                                    const KeyLayout& layout, const LeaseHolder& holder,
                                    int partition);

// Gives one lease back; false when it was not ours.
absl::StatusOr<bool> ReleaseLease(RedisExecutor& redis, const ScriptShas& scripts,
                                  const KeyLayout& layout, const LeaseHolder& holder,
                                  int partition);

// Which of `partitions` have no lease at all (EXISTS), one flag each, pipelined.
absl::StatusOr<std::vector<bool>> FreeLeases(RedisExecutor& redis, const KeyLayout& layout,
                                             std::span<const int> partitions);

// Leaving: every lease of `partitions` released and the worker out of the live set, pipelined.
absl::Status ReleaseAllAndLeave(RedisExecutor& redis, const ScriptShas& scripts,
                                const KeyLayout& layout, const LeaseHolder& holder,
                                std::span<const int> partitions);

}  // namespace alliance

#endif  // ALLIANCE_STORE_PARTITION_LEASE_H_
