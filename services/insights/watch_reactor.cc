// WatchAlerts stream: validation, limits, catch-up from a cursor, live fan-out, heartbeats,
// the slow-watcher cut-off and the reset of ended streams nobody reads. Lock order: the hub's
// lock, then this reactor's mu_, then the quota's.
#include "services/insights/watch_reactor.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/insights/access_log.h"
#include "services/insights/tenant.h"
#include "services/insights/tokens.h"
#include "services/insights/watch_catchup.h"
#include "store/alert_reads.h"

namespace alliance::insights {
namespace {

// Cursor positions are never ahead of Redis's clock when handed out. One further ahead than
// this (allowing for another process's reader being a little ahead of ours) was not made by
// this service: INVALID_ARGUMENT, rather than a watcher that silently skips its own alerts
// until the streams get there.
constexpr uint64_t kCursorAheadSlackMs = 60'000;

}  // namespace

WatchReactor::WatchReactor(grpc::CallbackServerContext* context,
                           const alliance::v1::WatchAlertsRequest& request, WatchEnvironment* env)
    : context_(context), env_(env) {
  env_->open.fetch_add(1);
  env_->metrics->watchers->Add(1);
  Begin(request);
}

void WatchReactor::Begin(const alliance::v1::WatchAlertsRequest& request) {
  auto fail = [this](grpc::StatusCode code, std::string_view why) {
    absl::MutexLock lock(&mu_);
    FinishLocked(code, why);
  };
  absl::StatusOr<Caller> caller =
      ResolveCaller(*env_->authorizer, *context_, Scope::kWatch, request.tenant_id());
  if (!caller.ok()) {
    return fail(static_cast<grpc::StatusCode>(caller.status().code()),
                Std(caller.status().message()));
  }
  caller_ = *caller;
  if (absl::Status s = CheckId("therapist_id", request.therapist_id(), true); !s.ok()) {
    return fail(grpc::INVALID_ARGUMENT, Std(s.message()));
  }
  if (!alliance::v1::Severity_IsValid(request.min_severity())) {
    return fail(grpc::INVALID_ARGUMENT, "min_severity: unknown value");
  }
  filter_.tenant = caller_.tenant;
  filter_.therapist = request.therapist_id();
  filter_.min_severity = request.min_severity();
  for (int kind : request.kinds()) {
    if (!alliance::v1::AlertKind_IsValid(kind)) {
      return fail(grpc::INVALID_ARGUMENT, "kinds: unknown value");
    }
    if (kind != alliance::v1::ALERT_KIND_UNSPECIFIED) filter_.kinds.insert(kind);
  }
  std::optional<Positions> resume;
  if (!request.cursor().empty()) {
    absl::StatusOr<Positions> cursor =
        DecodeWatchCursor(request.cursor(), env_->layout->partitions());
    if (!cursor.ok()) return fail(grpc::INVALID_ARGUMENT, Std(cursor.status().message()));
    resume = *std::move(cursor);
  }
  if (env_->open.load() > env_->options.max_watchers) {
    return Refuse("per_process", "too many watchers on this server; retry elsewhere");
  }
  // With authentication disabled every caller has the same pseudo key: no per-key limit.
  std::string_view refused_by;
  absl::StatusOr<WatchSlot> slot = env_->quota->Acquire(
      env_->authorizer->enabled() ? std::string_view(caller_.key_id) : std::string_view(),
      caller_.tenant, &refused_by);
  if (!slot.ok()) return Refuse(refused_by, Std(slot.status().message()));
  {
    absl::MutexLock lock(&mu_);
    slot_ = *std::move(slot);
  }
  StreamId floor;
  absl::StatusOr<Positions> head = env_->hub->Head(&floor);
  if (!head.ok()) return fail(grpc::UNAVAILABLE, Std(head.status().message()));
  // Without a cursor: from the head on, and the cursor starts at the time floor, which says
  // nothing about where other tenants' entries are (the head would).
  Positions start = *head;
  Positions cursor(head->size(), floor);
  if (resume) {
    const uint64_t limit = env_->hub->RedisNowMs() + kCursorAheadSlackMs;
    for (const StreamId& id : *resume) {
      if (id.ms > limit) {
        return fail(grpc::INVALID_ARGUMENT, "cursor: a position lies beyond the alert streams");
      }
    }
    start = *resume;
    cursor = *resume;
  }
  if (!env_->hub->Add(this)) return fail(grpc::UNAVAILABLE, "service is shutting down");
  registered_ = true;
  {
    absl::MutexLock lock(&mu_);
    position_ = start;
    target_ = *head;
    cursor_ = std::move(cursor);
    last_sent_cursor_ = EncodeWatchCursor(cursor_);
    // The first message is a heartbeat with the starting cursor: the client can resume from
    // it even if no alert ever arrives.
    Enqueue(nullptr);
    WriteNextLocked();
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

void WatchReactor::Refuse(std::string_view reason, std::string_view why) {
  env_->metrics->RecordWatchRefused(reason);
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::RESOURCE_EXHAUSTED, why);
}

void WatchReactor::ContinueCatchUp() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || live_ || catchup_in_flight_) return;
    if (queue_.size() > env_->options.buffer / 2) {
      catchup_waiting_ = true;  // OnWriteDone resumes once the buffer drained
      return;
    }
    catchup_in_flight_ = true;
  }
  refs_.fetch_add(1);
  bool queued = env_->pool->Submit(
      [this](absl::StatusOr<RedisExecutor*> redis) { CatchUpStep(std::move(redis)); });
  if (!queued) {
    {
      absl::MutexLock lock(&mu_);
      catchup_in_flight_ = false;
      FinishLocked(grpc::RESOURCE_EXHAUSTED, "too many queries queued");
    }
    Unref();
  }
}

void WatchReactor::CatchUpStep(absl::StatusOr<RedisExecutor*> redis) {
  Positions from;
  Positions to;
  size_t free = 1;
  bool abandon = false;
  {
    absl::MutexLock lock(&mu_);
    if (finished_ || !redis.ok()) {
      catchup_in_flight_ = false;
      if (!redis.ok()) FinishLocked(grpc::UNAVAILABLE, Std(redis.status().message()));
      abandon = true;
    } else {
      from = position_;
      to = target_;
      if (queue_.size() < env_->options.buffer) free = env_->options.buffer - queue_.size();
    }
  }
  if (abandon) {
    Unref();
    return;
  }
  absl::StatusOr<AlertRangeEntries> read =
      ReadCatchUpStep(**redis, *env_->layout, from, to, free, filter_);
  absl::Status status = read.status();
  bool caught_up = false;
  Positions seen;
  {
    absl::MutexLock lock(&mu_);
    catchup_in_flight_ = false;
    if (!status.ok()) {
      FinishLocked(grpc::UNAVAILABLE, Std(status.message()));
    } else if (!finished_) {
      const Positions before = position_;
      for (const auto& entry : read->entries) {
        if (TakeLocked(*entry) && filter_.Matches(*entry)) Enqueue(entry->alert);
      }
      for (int p : read->finished) position_[p] = std::max(position_[p], to[p]);
      caught_up = AtOrAfter(position_, target_);
      seen = position_;
      if (!caught_up && position_ == before) {
        // Every step moves forward or the catch-up ends: a step that read entries it could
        // not take would otherwise repeat forever.
        FinishLocked(grpc::INTERNAL, "alert stream entries could not be read");
      }
      WriteNextLocked();
    }
  }
  if (caught_up) {
    Positions newer_head;
    StreamId floor;
    if (env_->hub->TryGoLive(this, seen, &newer_head, &floor)) {
      absl::MutexLock lock(&mu_);
      live_ = true;
      ApplyFloorLocked(floor);
    } else if (!newer_head.empty()) {
      absl::MutexLock lock(&mu_);
      target_ = std::move(newer_head);
    } else {
      Unref();  // the hub is stopping or forgot us: nothing more to do
      return;
    }
  }
  if (status.ok()) ContinueCatchUp();
  Unref();
}

bool WatchReactor::TakeLocked(const AlertEntry& entry) {
  StreamId& pos = position_[entry.partition];
  if (entry.id <= pos) return false;  // already taken (during catch-up, or a repeat)
  pos = entry.id;
  // Only the caller's own entries move the cursor: where another tenant's entry lands is
  // none of its business.
  if (entry.tenant == filter_.tenant) {
    StreamId& own = cursor_[entry.partition];
    own = std::max(own, entry.id);
  }
  return true;
}

void WatchReactor::ApplyFloorLocked(StreamId floor) {
  for (StreamId& id : cursor_) id = std::max(id, floor);
}

void WatchReactor::Enqueue(std::shared_ptr<const alliance::v1::Alert> alert) {
  queue_.push_back({std::move(alert), EncodeWatchCursor(cursor_)});
  env_->metrics->buffered->Add(1);
}

void WatchReactor::WriteNextLocked() {
  if (writing_ || finished_ || queue_.empty()) return;
  Outgoing next = std::move(queue_.front());
  queue_.pop_front();
  env_->metrics->buffered->Add(-1);
  response_.Clear();
  if (next.alert != nullptr) {
    *response_.mutable_alert() = *next.alert;
    env_->metrics->alerts_sent->Increment();
    LogAccess("WatchAlerts", caller_,
              {absl::StrCat(next.alert->therapist_id(), ":", next.alert->client_id())},
              {next.alert->alert_id()});
  } else {
    response_.set_heartbeat(true);
    env_->metrics->heartbeats_sent->Increment();
  }
  response_.set_cursor(next.cursor);
  last_sent_cursor_ = std::move(next.cursor);
  last_write_ = absl::Now();
  writing_ = true;
  // More queued: let gRPC coalesce this write with the next ones (fewer syscalls in bursts);
  // the last write of a burst goes without the hint and flushes.
  grpc::WriteOptions options;
  if (!queue_.empty()) options.set_buffer_hint();
  StartWrite(&response_, options);
}

void WatchReactor::OnWriteDone(bool ok) {
  bool resume = false;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::CANCELLED, "the client went away");
      return;
    }
    WriteNextLocked();
    if (catchup_waiting_ && queue_.size() <= env_->options.buffer / 2) {
      catchup_waiting_ = false;
      resume = true;
    }
  }
  if (resume) ContinueCatchUp();
}

void WatchReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::CANCELLED, "cancelled by the client");
}

void WatchReactor::OnDone() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    slot_.Release();  // normally released by FinishLocked already
  }
  if (registered_) env_->hub->Remove(this);
  env_->open.fetch_sub(1);
  env_->metrics->watchers->Add(-1);
  Unref();
}

bool WatchReactor::OnLiveEntries(const EntryBatch& entries, StreamId floor) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  for (const auto& entry : entries) {
    if (!TakeLocked(*entry) || !filter_.Matches(*entry)) continue;
    if (queue_.size() >= env_->options.buffer) {
      env_->metrics->dropped_slow->Increment();
      LogInfo("watcher_dropped_slow", {{"tenant", std::string_view(filter_.tenant)},
                                       {"buffer", static_cast<int64_t>(env_->options.buffer)}});
      FinishLocked(grpc::RESOURCE_EXHAUSTED,
                   absl::StrCat("watcher fell behind: its buffer of ", env_->options.buffer,
                                " messages is full"));
      return false;
    }
    Enqueue(entry->alert);
  }
  // Only now: the floor holds for a watcher that has taken the whole batch.
  ApplyFloorLocked(floor);
  WriteNextLocked();
  return true;
}

bool WatchReactor::OnTick(absl::Time now, StreamId floor) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  ApplyFloorLocked(floor);
  if (queue_.empty() && !writing_ && now - last_write_ >= env_->options.heartbeat) {
    Enqueue(nullptr);
    WriteNextLocked();
  }
  return true;
}

void WatchReactor::OnSweep(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (!finished_ || done_ || reset_ || now - ended_at_ < env_->options.end_grace) return;
  // The stream ended but its client has not taken the end (it stopped reading, so the last
  // messages and the status wait on flow control): reset it, which frees what the transport
  // holds for it and, at OnDone, its process slot. Its cursor is in every message it read.
  reset_ = true;
  env_->metrics->watchers_reset->Increment();
  LogInfo("watcher_reset", {{"tenant", std::string_view(filter_.tenant)}});
  context_->TryCancel();
}

void WatchReactor::OnHubStopping() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::UNAVAILABLE, "service is shutting down");
}

void WatchReactor::ClearQueueLocked() {
  env_->metrics->buffered->Add(-static_cast<double>(queue_.size()));
  queue_.clear();
}

void WatchReactor::FinishLocked(grpc::StatusCode code, std::string_view why) {
  if (finished_) return;
  finished_ = true;
  ended_at_ = absl::Now();
  // The key and tenant slot goes back now, not at OnDone: a client that stopped reading
  // would otherwise keep it for as long as its connection lives.
  slot_.Release();
  ClearQueueLocked();
  std::string message(why);
  if (!last_sent_cursor_.empty()) {
    // The cursor of the last message written: a client that read the stream to its end has
    // received exactly everything up to it.
    absl::StrAppend(&message, "; resume with cursor ", last_sent_cursor_);
    context_->AddTrailingMetadata(kResumeCursorMetadata, last_sent_cursor_);
  }
  env_->metrics->RecordCall("WatchAlerts", code, std::nullopt);
  Finish(grpc::Status(code, message));
}

void WatchReactor::Unref() {
  if (refs_.fetch_sub(1) == 1) delete this;
}

}  // namespace alliance::insights
