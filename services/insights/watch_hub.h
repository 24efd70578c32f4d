// The one Redis reader of a process for live alerts: a thread that XREADs (BLOCK) every
// partition's alert stream and hands each batch to all live watchers, so N watchers cost one
// Redis connection, not N. It also drives heartbeats, and tells the health service whether
// Redis answers.
//
// On a Redis Cluster one XREAD over every partition would be CROSSSLOT, and a blocking read of
// one slot would hold up the others: the reader has a cluster client of its own and polls, one
// exchange per partition (TIME and a non-blocking XREAD on the partition's primary), merging
// the partitions' entries by stream id as on a single Redis; it waits WatchHubOptions::poll
// after a round that found nothing. Positions, cursors and the time floor are the same.
//
// Time floor: a stream id "<ms>-0" such that every alert entry below it has been read and
// fanned out (or never will exist). It is Redis's clock a fixed lag (kFloorLag, a minute) in
// the past, in whole seconds, and never more than what the reader has covered. Watch cursors
// carry it so that a watcher whose tenant is quiet resumes from about a minute ago instead of
// from its last own alert, without revealing anything about other tenants' entries: the value
// depends on the clock only (unless the reader itself lags by more than the lag).
#ifndef ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_
#define ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/alert_entry.h"
#include "store/backoff.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"
#include "store/stream_id.h"

namespace alliance::insights {

using EntryBatch = std::vector<std::shared_ptr<const AlertEntry>>;

// A watcher as the hub sees it. Every method runs with the hub's lock held, so it must not
// call back into the hub.
class WatchSubscriber {
 public:
  virtual ~WatchSubscriber() = default;
  // New entries, ordered by stream id. `floor` is the reader's time floor once this batch is
  // taken (the time floor above): it holds only after the whole batch. Returns false when the
  // subscriber has finished and is to be dropped from the fan-out.
  virtual bool OnLiveEntries(const EntryBatch& entries, StreamId floor) = 0;
  // Called every tick for live subscribers (heartbeats), with the current floor. Same return
  // convention.
  virtual bool OnTick(absl::Time now, StreamId floor) = 0;
  // Called every tick for every registered subscriber, live or not, including one that has
  // ended its stream but whose call gRPC has not finished yet (until Remove).
  virtual void OnSweep(absl::Time now) = 0;
  // The process is shutting down: finish the stream.
  virtual void OnHubStopping() = 0;
};

struct WatchHubOptions {
  absl::Duration block = absl::Milliseconds(500);  // XREAD BLOCK
  absl::Duration tick = absl::Milliseconds(100);   // heartbeat and sweep interval
  int read_count = 1000;                           // XREAD COUNT per stream
  // Cluster mode: pause after a round of reads that found no new entry.
  absl::Duration poll = absl::Milliseconds(50);
};

class WatchHub {
 public:
  // A single Redis at `endpoint`, or the Redis Cluster of `cluster` when set.
  WatchHub(RedisEndpoint endpoint, KeyLayout layout, WatchHubOptions options,
           std::function<void(bool redis_ok)> on_redis_health,
           std::optional<ClusterOptions> cluster = std::nullopt);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void Start();
  // Finishes every subscriber (OnHubStopping) and joins the reader and the ticker.
  void Stop();

  // The position up to which entries have been read and fanned out, and (when `floor` is not
  // null) the time floor that holds for a watcher starting there. UNAVAILABLE until the
  // reader has reached Redis once.
  absl::StatusOr<Positions> Head(StreamId* floor = nullptr) const;
  // Redis's clock as the reader last saw it, advanced by the local steady clock since: what
  // the newest entry id can be at most (for validating cursors). 0 before the first read.
  uint64_t RedisNowMs() const;

  // Registers a subscriber that is catching up from a cursor (it receives OnSweep and
  // OnHubStopping). False when the hub is stopping.
  bool Add(WatchSubscriber* subscriber);
  // Moves a subscriber into the live fan-out if `seen` is at or after the head and sets
  // `floor`; otherwise returns false and sets `head` (the subscriber catches up further and
  // tries again).
  bool TryGoLive(WatchSubscriber* subscriber, const Positions& seen, Positions* head,
                 StreamId* floor);
  // Forgets a subscriber; after this returns the hub never calls it again.
  void Remove(WatchSubscriber* subscriber);

  size_t live_count() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  void Run();
  void RunCluster(const ClusterOptions& options);
  // Heartbeats and sweeps on a fixed interval of their own, so that when a heartbeat goes out
  // does not depend on when other tenants' alerts wake the reader.
  void RunTicker();
  // Waits the reconnect policy's next delay (store/backoff.h), or less if Stop() is called
  // meanwhile.
  void BackOff();
  // Waits `pause`, or less if Stop() is called meanwhile.
  void Pause(absl::Duration pause);
  // Reads Redis's clock, then the newest entry of every partition (store/alert_watch_reads.h),
  // and makes them the head.
  absl::Status Initialize(RedisExecutor& redis);
  // Reads what arrived after the head and fans it out; `found` tells whether any entry came.
  absl::Status ReadOnce(RedisExecutor& redis, bool* found);
  void Fanout(const EntryBatch& batch, bool covered, uint64_t redis_ms, SteadyTime sent);
  void SetCoveredLocked(uint64_t redis_ms, SteadyTime sent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  StreamId FloorLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t RedisNowMsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetRedisHealth(bool ok);

  const RedisEndpoint endpoint_;
  const std::optional<ClusterOptions> cluster_;
  const KeyLayout layout_;
  const WatchHubOptions options_;
  const std::function<void(bool)> on_redis_health_;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar stop_requested_;  // signalled when stopping_ becomes true
  Positions head_ ABSL_GUARDED_BY(mu_);
  // Every entry with a millisecond part below covered_ms_ is at or before head_ (Redis's
  // clock read before a read that returned everything there was); 0: not known yet.
  uint64_t covered_ms_ ABSL_GUARDED_BY(mu_) = 0;
  SteadyTime covered_sent_ ABSL_GUARDED_BY(mu_);  // when that clock reading was sent
  absl::flat_hash_set<WatchSubscriber*> all_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<WatchSubscriber*> live_ ABSL_GUARDED_BY(mu_);

  int redis_health_ = -1;  // reader thread only: -1 unknown, 0 down, 1 up
  Backoff backoff_;        // reader thread only: reset by every successful round
  std::thread reader_;
  std::thread ticker_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_WATCH_HUB_H_
