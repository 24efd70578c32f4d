// Per-API-key and per-tenant limits on concurrent WatchAlerts streams, so that one key or one
// tenant cannot take every watch slot of a process (the process-wide --max_watchers). A
// watcher holds one slot of its key and one of its tenant from admission until it ends: the
// reactor releases them when it finishes the stream (slow, cancelled, connection gone,
// shutdown), not when gRPC is done with the call, which for a client that stopped reading
// can be much later.
#ifndef ALLIANCE_SERVICES_INSIGHTS_WATCH_QUOTA_H_
#define ALLIANCE_SERVICES_INSIGHTS_WATCH_QUOTA_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace alliance::insights {

struct WatchLimits {
  int per_key = 50;      // streams of one API key
  int per_tenant = 200;  // streams of one tenant, all its keys together
};

class WatchQuota;

// One admitted watcher's slots; released by Release() or on destruction, once.
class WatchSlot {
 public:
  WatchSlot() = default;
  WatchSlot(WatchSlot&& other) noexcept { *this = std::move(other); }
  WatchSlot& operator=(WatchSlot&& other) noexcept;
  WatchSlot(const WatchSlot&) = delete;
  WatchSlot& operator=(const WatchSlot&) = delete;
  ~WatchSlot() { Release(); }

  void Release();
  bool held() const { return quota_ != nullptr; }

 private:
  friend class WatchQuota;
  WatchQuota* quota_ = nullptr;
  std::string key_id_;
  std::string tenant_;
};

class WatchQuota {
 public:
  explicit WatchQuota(WatchLimits limits) : limits_(limits) {}
  WatchQuota(const WatchQuota&) = delete;
  WatchQuota& operator=(const WatchQuota&) = delete;

  // Which limit refused a watcher (the label of the refusal metric).
  static constexpr std::string_view kPerKey = "per_key";
  static constexpr std::string_view kPerTenant = "per_tenant";

  // Takes a slot of `key_id` and one of `tenant`. An empty `key_id` (authentication
  // disabled: every caller shares one pseudo-key) has no per-key limit. RESOURCE_EXHAUSTED
  // naming the limit when either is full (nothing is taken then); `refused_by` is set to
  // kPerKey or kPerTenant.
  absl::StatusOr<WatchSlot> Acquire(std::string_view key_id, std::string_view tenant,
                                    std::string_view* refused_by);

 private:
  friend class WatchSlot;
  void Release(const std::string& key_id, const std::string& tenant);

  const WatchLimits limits_;
  absl::Mutex mu_;
  // Entries are erased at zero, so the maps hold only keys and tenants with open streams.
  absl::flat_hash_map<std::string, int> per_key_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_tenant_ ABSL_GUARDED_BY(mu_);
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_WATCH_QUOTA_H_
