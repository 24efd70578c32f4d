// The one Redis reader of a process for live alerts: a thread that XREADs (BLOCK) every
// partition's alert stream and hands each batch to all live watchers, so N watchers cost one
// Redis connection, not N. It also drives heartbeats, and tells the health service whether
// Redis answers.
#ifndef ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_
#define ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/keys.h"
#include "common/redis_connection.h"
#include "services/insights/alert_entry.h"
#include "services/insights/stream_id.h"

namespace alliance::insights {

using EntryBatch = std::vector<std::shared_ptr<const AlertEntry>>;

// A watcher as the hub sees it. Every method runs with the hub's lock held, so it must not
// call back into the hub.
class WatchSubscriber {
 public:
  virtual ~WatchSubscriber() = default;
  // New entries, ordered by stream id. Returns false when the subscriber has finished and is
  // to be dropped from the fan-out.
  virtual bool OnLiveEntries(const EntryBatch& entries) = 0;
  // Called every tick (for heartbeats). Same return convention.
  virtual bool OnTick(absl::Time now) = 0;
  // The process is shutting down: finish the stream.
  virtual void OnHubStopping() = 0;
};

struct WatchHubOptions {
  absl::Duration block = absl::Milliseconds(500);  // XREAD BLOCK
  absl::Duration tick = absl::Milliseconds(100);   // heartbeat check interval
  int read_count = 1000;                           // XREAD COUNT per stream
};

class WatchHub {
 public:
  WatchHub(RedisEndpoint endpoint, KeyLayout layout, WatchHubOptions options,
           std::function<void(bool redis_ok)> on_redis_health);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void Start();
  // Finishes every subscriber (OnHubStopping) and joins the reader.
  void Stop();

  // The position up to which entries have been read and fanned out. UNAVAILABLE until the
  // reader has reached Redis once.
  absl::StatusOr<Positions> Head() const;

  // Registers a subscriber that is catching up from a cursor (it only receives
  // OnHubStopping). False when the hub is stopping.
  bool Add(WatchSubscriber* subscriber);
  // Moves a subscriber into the live fan-out if `seen` is at or after the head; otherwise
  // returns false and sets `head` (the subscriber catches up further and tries again).
  bool TryGoLive(WatchSubscriber* subscriber, const Positions& seen, Positions* head);
  // Forgets a subscriber; after this returns the hub never calls it again.
  void Remove(WatchSubscriber* subscriber);

  size_t live_count() const;

 private:
  void Run();
  // Waits kReconnectBackoff, or less if Stop() is called meanwhile.
  void BackOff();
  absl::Status InitPositions(RedisConnection& redis);
  absl::Status ReadOnce(RedisConnection& redis);
  void Fanout(const EntryBatch& batch);
  void SetRedisHealth(bool ok);

  const RedisEndpoint endpoint_;
  const KeyLayout layout_;
  const WatchHubOptions options_;
  const std::function<void(bool)> on_redis_health_;
  std::vector<std::string> stream_keys_;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar stop_requested_;  // signalled when stopping_ becomes true
  Positions head_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<WatchSubscriber*> all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<WatchSubscriber*> live_ ABSL_GUARDED_BY(mu_);
  absl::Time last_tick_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  int redis_health_ = -1;  // reader thread only: -1 unknown, 0 down, 1 up
  std::thread reader_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_
