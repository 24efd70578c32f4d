// One WatchAlerts stream. It catches up from the request's cursor with XRANGE on the Redis
// pool (flow-controlled by its buffer), then goes live on the process's one alert reader
// (WatchHub). Its buffer is bounded: a watcher that cannot keep up is ended with
// RESOURCE_EXHAUSTED and the cursor to resume from, so memory stays bounded. It holds a slot
// of its API key and tenant (WatchQuota) until it ends, and its cursors reveal only its own
// tenant's positions and the hub's time floor, never where other tenants' alerts landed.
#ifndef ALLIANCE_SERVICES_INSIGHTS_WATCH_REACTOR_H_
#define ALLIANCE_SERVICES_INSIGHTS_WATCH_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "alliance/v1/insights.pb.h"
#include "services/insights/alert_filter.h"
#include "services/insights/redis_pool.h"
#include "services/insights/service_metrics.h"
#include "services/insights/tenant.h"
#include "services/insights/watch_hub.h"
#include "services/insights/watch_quota.h"
#include "store/alert_entry.h"
#include "store/keys.h"

namespace alliance::insights {

// Trailing metadata key carrying the resume cursor when a stream ends with an error.
inline constexpr char kResumeCursorMetadata[] = "alliance-resume-cursor";

struct WatchOptions {
  size_t buffer = 1024;  // messages per watcher (alerts are shared: ~150 bytes per slot)
  absl::Duration heartbeat = absl::Seconds(15);  // idle time before a heartbeat
  // Streams per process, counted until gRPC is done with the call (they hold memory until
  // then); per key and per tenant limits are in WatchQuota.
  int max_watchers = 2000;
  // An ended stream whose client does not take its end (one that stopped reading leaves the
  // last messages and the status in flight) is reset after this long: its memory and its
  // process slot are freed.
  absl::Duration end_grace = absl::Seconds(10);
};

// What every watch stream shares.
struct WatchEnvironment {
  WatchHub* hub = nullptr;
  RedisPool* pool = nullptr;
  const KeyLayout* layout = nullptr;
  WatchOptions options;
  ServiceMetrics* metrics = nullptr;
  const Authorizer* authorizer = nullptr;
  WatchQuota* quota = nullptr;
  std::atomic<int> open{0};
};

class WatchReactor : public grpc::ServerWriteReactor<alliance::v1::WatchAlertsResponse>,
                     public WatchSubscriber {
 public:
  WatchReactor(grpc::CallbackServerContext* context,
               const alliance::v1::WatchAlertsRequest& request, WatchEnvironment* env);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  bool OnLiveEntries(const EntryBatch& entries, StreamId floor) override;
  bool OnTick(absl::Time now, StreamId floor) override;
  void OnSweep(absl::Time now) override;
  void OnHubStopping() override;

 private:
  struct Outgoing {
    std::shared_ptr<const alliance::v1::Alert> alert;  // null: heartbeat
    std::string cursor;
  };

  void Begin(const alliance::v1::WatchAlertsRequest& request);
  void ContinueCatchUp();
  void CatchUpStep(absl::StatusOr<RedisExecutor*> redis);
  // Refuses a new stream over a limit (RESOURCE_EXHAUSTED), counted by `reason`.
  void Refuse(std::string_view reason, std::string_view why);
  // Takes one entry of the alert streams in order: moves the positions, queues it if it
  // matches. False when the entry was at or before the position already.
  bool TakeLocked(const AlertEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Raises every partition of the cursor to the hub's time floor (live watchers only: the
  // floor holds for a watcher that has taken every batch).
  void ApplyFloorLocked(StreamId floor) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Enqueue(std::shared_ptr<const alliance::v1::Alert> alert) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the stream once; error statuses carry the resume cursor. Releases the key and
  // tenant slot at once.
  void FinishLocked(grpc::StatusCode code, std::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearQueueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unref();

  grpc::CallbackServerContext* const context_;
  WatchEnvironment* const env_;
  AlertFilter filter_;
  Caller caller_;             // set in Begin, before any other thread sees this reactor
  std::atomic<int> refs_{1};  // OnDone, plus one per catch-up step in flight
  bool registered_ = false;   // added to the hub (set before any other thread sees us)
  // Set in Begin, moved under mu_ before any other thread sees this reactor.
  WatchSlot slot_ ABSL_GUARDED_BY(mu_);

  absl::Mutex mu_;
  std::deque<Outgoing> queue_ ABSL_GUARDED_BY(mu_);
  alliance::v1::WatchAlertsResponse response_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool live_ ABSL_GUARDED_BY(mu_) = false;
  bool catchup_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool catchup_waiting_ ABSL_GUARDED_BY(mu_) = false;
  Positions position_ ABSL_GUARDED_BY(mu_);  // everything at or before it is sent or filtered
  Positions target_ ABSL_GUARDED_BY(mu_);    // catch-up goal (the hub's head when it began)
  // What the cursor says, per partition: the later of the last entry of the caller's own
  // tenant taken and the hub's time floor. Never beyond position_'s coverage, never moved
  // by another tenant's entry, so resuming from it skips only other tenants' entries.
  Positions cursor_ ABSL_GUARDED_BY(mu_);
  std::string last_sent_cursor_ ABSL_GUARDED_BY(mu_);
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
  absl::Time ended_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool done_ ABSL_GUARDED_BY(mu_) = false;   // OnDone ran: context_ is no longer usable
  bool reset_ ABSL_GUARDED_BY(mu_) = false;  // TryCancel issued after end_grace
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_WATCH_REACTOR_H_
