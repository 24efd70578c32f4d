// Live alerts as Server-Sent Events; see dashboard_sse.h. The catch-up, cursor and floor rules
// are WatchReactor's (watch_reactor.cc): positions move with every entry read, the cursor only
// with the caller's own tenant's entries and the hub's time floor, so a cursor reveals nothing
// about other tenants. Lock order: the hub's lock, then the watcher's mu_, then the quota's and
// the stream's. The stream's on_close runs on an HTTP server thread holding none of them (the
// server reports a close from the session's strand; the only inline reports are at Stream()
// time, before any lock is taken here, and for a stream whose session is gone unreported,
// which happens only after the hub has stopped and no longer writes).
#include "services/insights/dashboard_sse.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/http/http_auth.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/insights/access_log.h"
#include "services/insights/alert_filter.h"
#include "services/insights/dashboard_json.h"
#include "services/insights/dashboard_params.h"
#include "services/insights/tenant.h"
#include "services/insights/tokens.h"
#include "services/insights/watch_catchup.h"
#include "store/alert_reads.h"

namespace alliance::insights {
namespace {

// As WatchReactor: a cursor further ahead of Redis's clock than this was not made here.
constexpr uint64_t kCursorAheadSlackMs = 60'000;

// The hub hands the same Alert to every watcher in turn: serialize it once per thread, not once
// per stream. Entries hold the alert, so a cached pointer is never reused for another one.
const std::string& AlertJson(const std::shared_ptr<const alliance::v1::Alert>& alert) {
  struct Cache {
    absl::flat_hash_map<const alliance::v1::Alert*,
                        std::pair<std::shared_ptr<const alliance::v1::Alert>, std::string>>
        entries;
  };
  thread_local Cache cache;
  constexpr size_t kMaxCached = 256;
  auto it = cache.entries.find(alert.get());
  if (it != cache.entries.end()) return it->second.second;
  if (cache.entries.size() >= kMaxCached) cache.entries.clear();
  return cache.entries.emplace(alert.get(), std::make_pair(alert, ProtoJson(*alert)))
      .first->second.second;
}

std::string HeartbeatEvent(const std::string& cursor) {
  return absl::StrCat(": heartbeat ", cursor, "\nid: ", cursor, "\n\n");
}

class SseWatcher : public WatchSubscriber, public std::enable_shared_from_this<SseWatcher> {
 public:
  SseWatcher(WatchEnvironment* env, Caller caller, AlertFilter filter, WatchSlot slot)
      : env_(env), caller_(std::move(caller)), filter_(std::move(filter)), slot_(std::move(slot)) {}

  // Registers with the hub and opens the stream. Called once, right after construction.
  void Open(http::Responder respond, std::optional<Positions> resume, Positions head,
            StreamId floor);

  bool OnLiveEntries(const EntryBatch& entries, StreamId floor) override;
  bool OnTick(absl::Time now, StreamId floor) override;
  void OnSweep(absl::Time now) override;
  void OnHubStopping() override;

 private:
  void ContinueCatchUp();
  void CatchUpStep(absl::StatusOr<RedisExecutor*> redis);
  void OnClosed(const absl::Status& reason);
  bool TakeLocked(const AlertEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyFloorLocked(StreamId floor) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteAlertLocked(const std::shared_ptr<const alliance::v1::Alert>& alert)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteHeartbeatLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteLocked(std::string chunk) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the stream once, with a last comment naming the resume cursor; frees the key and
  // tenant slot at once.
  void FinishLocked(absl::StatusCode code, std::string_view why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts the stream's end once, under WatchAlerts.
  void RecordEndLocked(absl::StatusCode code) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t max_queued() const { return env_->options.buffer * kSseBytesPerMessage; }

  WatchEnvironment* const env_;
  const Caller caller_;
  const AlertFilter filter_;

  absl::Mutex mu_;
  WatchSlot slot_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<SseWatcher> self_ ABSL_GUARDED_BY(mu_);  // alive until the stream closes
  std::shared_ptr<http::ResponseStream> stream_ ABSL_GUARDED_BY(mu_);
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool recorded_ ABSL_GUARDED_BY(mu_) = false;
  std::string pending_end_ ABSL_GUARDED_BY(mu_);
  bool live_ ABSL_GUARDED_BY(mu_) = false;
  bool catchup_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool catchup_waiting_ ABSL_GUARDED_BY(mu_) = false;
  Positions position_ ABSL_GUARDED_BY(mu_);
  Positions target_ ABSL_GUARDED_BY(mu_);
  Positions cursor_ ABSL_GUARDED_BY(mu_);
  std::string last_sent_cursor_ ABSL_GUARDED_BY(mu_);
  absl::Time last_write_ ABSL_GUARDED_BY(mu_);
};

void SseWatcher::Open(http::Responder respond, std::optional<Positions> resume, Positions head,
                      StreamId floor) {
  {
    absl::MutexLock lock(&mu_);
    self_ = shared_from_this();
    // Without a cursor: from the head on, the cursor at the time floor (as WatchReactor).
    position_ = resume ? *resume : head;
    cursor_ = resume ? *resume : Positions(head.size(), floor);
    target_ = head;
    last_sent_cursor_ = EncodeWatchCursor(cursor_);
  }
  if (!env_->hub->Add(this)) {
    {
      absl::MutexLock lock(&mu_);
      finished_ = closed_ = true;
      slot_.Release();
    }
    OnClosed(absl::UnavailableError("service is shutting down"));
    std::move(respond)(ErrorResponse(absl::UnavailableError("service is shutting down")));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    registered_ = true;
  }
  http::StreamOptions options;
  options.max_queued_bytes = max_queued();
  options.headers.emplace_back("Cache-Control", "no-store");
  options.headers.emplace_back("X-Accel-Buffering", "no");  // proxies must not hold events back
  std::weak_ptr<SseWatcher> weak = weak_from_this();
  options.on_close = [weak](absl::Status reason) {
    if (std::shared_ptr<SseWatcher> watcher = weak.lock()) watcher->OnClosed(reason);
  };
  std::shared_ptr<http::ResponseStream> stream = std::move(respond).Stream(std::move(options));
  Positions start;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return;  // closed at once (the server stopped): OnClosed cleaned up
    stream_ = std::move(stream);
    if (finished_) {
      // The hub stopped while the stream was opening: only the end comment goes out.
      stream_->Write(pending_end_);
      stream_->Finish();
      return;
    }
    // The reconnection delay a browser waits, then the starting cursor: a client can resume
    // from it even if no alert ever arrives.
    WriteLocked("retry: 2000\n\n");
    WriteHeartbeatLocked();
    start = position_;
  }
  Positions newer_head;
  StreamId live_floor;
  if (env_->hub->TryGoLive(this, start, &newer_head, &live_floor)) {
    absl::MutexLock lock(&mu_);
    live_ = true;
    ApplyFloorLocked(live_floor);
    return;
  }
  if (!newer_head.empty()) {
    absl::MutexLock lock(&mu_);
    target_ = std::move(newer_head);
  }
  ContinueCatchUp();
}

void SseWatcher::ContinueCatchUp() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || live_ || catchup_in_flight_) return;
    if (stream_ != nullptr && stream_->queued_bytes() > max_queued() / 2) {
      catchup_waiting_ = true;  // OnSweep resumes once the queue drained
      return;
    }
    catchup_in_flight_ = true;
  }
  std::shared_ptr<SseWatcher> self = shared_from_this();
  bool queued = env_->pool->Submit(
      [self](absl::StatusOr<RedisExecutor*> redis) { self->CatchUpStep(std::move(redis)); });
  if (!queued) {
    absl::MutexLock lock(&mu_);
    catchup_in_flight_ = false;
    FinishLocked(absl::StatusCode::kResourceExhausted, "too many queries queued");
  }
}

void SseWatcher::CatchUpStep(absl::StatusOr<RedisExecutor*> redis) {
  Positions from;
  Positions to;
  size_t free = 1;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || !redis.ok()) {
      catchup_in_flight_ = false;
      if (!redis.ok()) FinishLocked(redis.status().code(), Std(redis.status().message()));
      return;
    }
    from = position_;
    to = target_;
    const size_t queued = stream_ != nullptr ? stream_->queued_bytes() : 0;
    if (queued < max_queued()) free = (max_queued() - queued) / kSseBytesPerMessage;
  }
  absl::StatusOr<AlertRangeEntries> read =
      ReadCatchUpStep(**redis, *env_->layout, from, to, free, filter_);
  bool caught_up = false;
  Positions seen;
  {
    absl::MutexLock lock(&mu_);
    catchup_in_flight_ = false;
    if (!read.ok()) {
      FinishLocked(absl::StatusCode::kUnavailable, Std(read.status().message()));
      return;
    }
    if (finished_) return;
    const Positions before = position_;
    for (const auto& entry : read->entries) {
      if (TakeLocked(*entry) && filter_.Matches(*entry)) WriteAlertLocked(entry->alert);
    }
    for (int p : read->finished) position_[p] = std::max(position_[p], to[p]);
    caught_up = AtOrAfter(position_, target_);
    seen = position_;
    if (!caught_up && position_ == before) {
      // Every step moves forward or the catch-up ends (as WatchReactor).
      FinishLocked(absl::StatusCode::kInternal, "alert stream entries could not be read");
      return;
    }
  }
  if (caught_up) {
    Positions newer_head;
    StreamId floor;
    if (env_->hub->TryGoLive(this, seen, &newer_head, &floor)) {
      absl::MutexLock lock(&mu_);
      live_ = true;
      ApplyFloorLocked(floor);
      return;
    }
    if (newer_head.empty()) return;  // the hub is stopping: OnHubStopping ends the stream
    absl::MutexLock lock(&mu_);
    target_ = std::move(newer_head);
  }
  ContinueCatchUp();
}

bool SseWatcher::TakeLocked(const AlertEntry& entry) {
  StreamId& pos = position_[entry.partition];
  if (entry.id <= pos) return false;
  pos = entry.id;
  if (entry.tenant == filter_.tenant) {
    StreamId& own = cursor_[entry.partition];
    own = std::max(own, entry.id);
  }
  return true;
}

void SseWatcher::ApplyFloorLocked(StreamId floor) {
  for (StreamId& id : cursor_) id = std::max(id, floor);
}

void SseWatcher::WriteLocked(std::string chunk) {
  if (finished_ || stream_ == nullptr) return;
  last_write_ = absl::Now();
  // A refused write means the stream is closed or was just cut off (its queue bound passed):
  // OnClosed, on a server thread, frees the rest.
  if (!stream_->Write(std::move(chunk))) {
    finished_ = true;
    slot_.Release();
  }
}

void SseWatcher::WriteAlertLocked(const std::shared_ptr<const alliance::v1::Alert>& alert) {
  if (alert == nullptr || finished_) return;
  last_sent_cursor_ = EncodeWatchCursor(cursor_);
  WriteLocked(
      absl::StrCat("id: ", last_sent_cursor_, "\nevent: alert\ndata: ", AlertJson(alert), "\n\n"));
  env_->metrics->alerts_sent->Increment();
  LogAccess("WatchAlerts", caller_, {absl::StrCat(alert->therapist_id(), ":", alert->client_id())},
            {alert->alert_id()});
}

void SseWatcher::WriteHeartbeatLocked() {
  last_sent_cursor_ = EncodeWatchCursor(cursor_);
  WriteLocked(HeartbeatEvent(last_sent_cursor_));
  env_->metrics->heartbeats_sent->Increment();
}

bool SseWatcher::OnLiveEntries(const EntryBatch& entries, StreamId floor) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  for (const auto& entry : entries) {
    if (TakeLocked(*entry) && filter_.Matches(*entry)) WriteAlertLocked(entry->alert);
  }
  ApplyFloorLocked(floor);  // only now: the floor holds once the whole batch is taken
  return !finished_;
}

bool SseWatcher::OnTick(absl::Time now, StreamId floor) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  ApplyFloorLocked(floor);
  if (now - last_write_ >= env_->options.heartbeat) WriteHeartbeatLocked();
  return !finished_;
}

void SseWatcher::OnSweep(absl::Time /*now*/) {
  bool resume = false;
  {
    absl::MutexLock lock(&mu_);
    if (catchup_waiting_ && !finished_ && stream_ != nullptr &&
        stream_->queued_bytes() <= max_queued() / 2) {
      catchup_waiting_ = false;
      resume = true;
    }
  }
  if (resume) ContinueCatchUp();
}

void SseWatcher::OnHubStopping() {
  absl::MutexLock lock(&mu_);
  FinishLocked(absl::StatusCode::kUnavailable, "service is shutting down");
}

void SseWatcher::FinishLocked(absl::StatusCode code, std::string_view why) {
  if (finished_) return;
  finished_ = true;
  slot_.Release();
  RecordEndLocked(code);
  const std::string end =
      absl::StrCat(": end ", Absl(why), "; resume with cursor ", last_sent_cursor_, "\n\n");
  if (stream_ == nullptr) {
    pending_end_ = end;  // Open writes it once it has the stream
    return;
  }
  stream_->Write(end);
  stream_->Finish();
}

void SseWatcher::RecordEndLocked(absl::StatusCode code) {
  if (recorded_) return;
  recorded_ = true;
  env_->metrics->RecordCall("WatchAlerts", static_cast<grpc::StatusCode>(code), std::nullopt);
}

void SseWatcher::OnClosed(const absl::Status& reason) {
  std::shared_ptr<SseWatcher> keep;  // `this` lives until the end of this call at least
  bool registered = false;
  {
    absl::MutexLock lock(&mu_);
    RecordEndLocked(reason.code());
    finished_ = true;
    closed_ = true;
    slot_.Release();
    keep = std::move(self_);
    registered = registered_;
    registered_ = false;
  }
  if (reason.code() == absl::StatusCode::kResourceExhausted) {
    env_->metrics->dropped_slow->Increment();
    LogInfo("watcher_dropped_slow", {{"tenant", std::string_view(filter_.tenant)},
                                     {"max_queued_bytes", static_cast<int64_t>(max_queued())}});
  }
  if (registered) env_->hub->Remove(this);
  if (keep != nullptr) {
    env_->open.fetch_sub(1);
    env_->metrics->watchers->Add(-1);
  }
}

absl::Status FirstError(std::initializer_list<absl::Status> checks) {
  for (const absl::Status& s : checks) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The stream of an authorized (or refused) caller; runs on the HTTP thread, or on a Redis pool
// thread when the caller came by session cookie.
void OpenAlertStream(WatchEnvironment* env, const http::Request& request, http::Responder respond,
                     absl::StatusOr<Caller> caller) {
  auto fail = [&](const absl::Status& status) {
    env->metrics->RecordCall("WatchAlerts", static_cast<grpc::StatusCode>(status.code()),
                             std::nullopt);
    std::move(respond)(ErrorResponse(status));
  };
  if (!caller.ok()) return fail(caller.status());
  AlertFilter filter;
  absl::StatusOr<int> min_severity = SeverityParam(request, "min_severity");
  google::protobuf::RepeatedField<int> kinds;
  if (absl::Status s =
          FirstError({CheckId("therapist_id", request.QueryParam("therapist_id"), true),
                      min_severity.status(), AlertKindsParam(request, "kinds", &kinds)});
      !s.ok()) {
    return fail(s);
  }
  filter.tenant = caller->tenant;
  filter.therapist = std::string(request.QueryParam("therapist_id"));
  filter.min_severity = static_cast<alliance::v1::Severity>(*min_severity);
  for (int kind : kinds) {
    if (kind != alliance::v1::ALERT_KIND_UNSPECIFIED) filter.kinds.insert(kind);
  }
  // A browser's reconnect sends Last-Event-ID to the URL it first opened, whose ?cursor= is
  // older: the header wins.
  std::string_view cursor_text = request.Header("Last-Event-ID");
  if (cursor_text.empty()) cursor_text = request.QueryParam("cursor");
  std::optional<Positions> resume;
  if (!cursor_text.empty()) {
    absl::StatusOr<Positions> cursor = DecodeWatchCursor(cursor_text, env->layout->partitions());
    if (!cursor.ok()) return fail(cursor.status());
    const uint64_t limit = env->hub->RedisNowMs() + kCursorAheadSlackMs;
    for (const StreamId& id : *cursor) {
      if (id.ms > limit) {
        return fail(absl::InvalidArgumentError("cursor: a position lies beyond the alert streams"));
      }
    }
    resume = *std::move(cursor);
  }
  StreamId floor;
  absl::StatusOr<Positions> head = env->hub->Head(&floor);
  if (!head.ok()) return fail(absl::UnavailableError(head.status().message()));
  // The process-wide count and the key and tenant slots are the gRPC watchers' own.
  if (env->open.fetch_add(1) + 1 > env->options.max_watchers) {
    env->open.fetch_sub(1);
    env->metrics->RecordWatchRefused("per_process");
    return fail(absl::ResourceExhaustedError("too many watchers on this server; retry elsewhere"));
  }
  std::string_view refused_by;
  absl::StatusOr<WatchSlot> slot = env->quota->Acquire(
      env->authorizer->enabled() ? std::string_view(caller->key_id) : std::string_view(),
      caller->tenant, &refused_by);
  if (!slot.ok()) {
    env->open.fetch_sub(1);
    env->metrics->RecordWatchRefused(refused_by);
    return fail(slot.status());
  }
  env->metrics->watchers->Add(1);
  auto watcher =
      std::make_shared<SseWatcher>(env, *std::move(caller), std::move(filter), *std::move(slot));
  watcher->Open(std::move(respond), std::move(resume), *std::move(head), floor);
}

}  // namespace

void ServeAlertStream(WatchEnvironment* env, const RequestAuthenticator& auth,
                      const http::Request& request, http::Responder respond) {
  // The request and the responder outlive this call when the caller's session is read on the
  // Redis pool.
  auto kept =
      std::make_shared<std::pair<http::Request, http::Responder>>(request, std::move(respond));
  auth.Authorize(request, Scope::kWatch, std::string(request.QueryParam("tenant")),
                 [env, kept](absl::StatusOr<Principal> principal) {
                   OpenAlertStream(env, kept->first, std::move(kept->second),
                                   CallerOf(std::move(principal)));
                 });
}

}  // namespace alliance::insights
