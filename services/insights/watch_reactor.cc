// WatchAlerts stream: validation, catch-up from a cursor, live fan-out, heartbeats, and the
// slow-watcher cut-off. Lock order: the hub's lock, then this reactor's mu_.
#include "services/insights/watch_reactor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "services/insights/access_log.h"
#include "services/insights/tenant.h"
#include "services/insights/tokens.h"

namespace alliance::insights {

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
  if (env_->open.load() > env_->options.max_watchers) {
    return fail(grpc::RESOURCE_EXHAUSTED, "too many watchers on this server; retry elsewhere");
  }
  absl::StatusOr<Positions> head = env_->hub->Head();
  if (!head.ok()) return fail(grpc::UNAVAILABLE, Std(head.status().message()));
  Positions start = *head;
  if (!request.cursor().empty()) {
    absl::StatusOr<Positions> cursor =
        DecodeWatchCursor(request.cursor(), env_->layout->partitions());
    if (!cursor.ok()) return fail(grpc::INVALID_ARGUMENT, Std(cursor.status().message()));
    start = *std::move(cursor);
  }
  if (!env_->hub->Add(this)) return fail(grpc::UNAVAILABLE, "service is shutting down");
  registered_ = true;
  {
    absl::MutexLock lock(&mu_);
    position_ = start;
    target_ = *head;
    last_sent_cursor_ = EncodeWatchCursor(start);
    // The first message is a heartbeat with the starting cursor: the client can resume from
    // it even if no alert ever arrives.
    Enqueue(nullptr);
    WriteNextLocked();
  }
  Positions newer_head;
  if (env_->hub->TryGoLive(this, start, &newer_head)) {
    absl::MutexLock lock(&mu_);
    live_ = true;
    return;
  }
  if (!newer_head.empty()) {
    absl::MutexLock lock(&mu_);
    target_ = std::move(newer_head);
  }
  ContinueCatchUp();
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
      [this](absl::StatusOr<RedisConnection*> redis) { CatchUpStep(std::move(redis)); });
  if (!queued) {
    {
      absl::MutexLock lock(&mu_);
      catchup_in_flight_ = false;
      FinishLocked(grpc::RESOURCE_EXHAUSTED, "too many queries queued");
    }
    Unref();
  }
}

void WatchReactor::CatchUpStep(absl::StatusOr<RedisConnection*> redis) {
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
  std::vector<int> behind;
  for (size_t p = 0; p < from.size(); ++p) {
    if (from[p] < to[p]) behind.push_back(static_cast<int>(p));
  }
  const size_t per = std::max<size_t>(1, free / std::max<size_t>(1, behind.size()));
  const std::string count = std::to_string(per);
  for (int p : behind) {
    std::string key = env_->layout->AlertStream(p);
    std::string lower = absl::StrCat("(", from[p].ToString());
    std::string upper = to[p].ToString();
    (*redis)->Append({"XRANGE", key, lower, upper, "COUNT", count});
  }
  std::vector<std::unique_ptr<AlertEntry>> entries;
  std::vector<int> done;
  absl::Status status = absl::OkStatus();
  for (int p : behind) {
    absl::StatusOr<RedisReplyPtr> reply = (*redis)->GetReply();
    if (!reply.ok()) {
      status = reply.status();
      break;
    }
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) {
      if (status.ok()) status = s;
      continue;
    }
    const redisReply& r = **reply;
    size_t n = r.type == REDIS_REPLY_ARRAY ? r.elements : 0;
    for (size_t i = 0; i < n; ++i) {
      std::unique_ptr<AlertEntry> entry = ParseAlertEntry(p, *r.element[i], false);
      if (entry == nullptr) continue;
      if (filter_.MatchesHeader(*entry)) ParseAlertBody(entry.get());
      entries.push_back(std::move(entry));
    }
    if (n < per) done.push_back(p);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  bool caught_up = false;
  Positions seen;
  {
    absl::MutexLock lock(&mu_);
    catchup_in_flight_ = false;
    if (!status.ok()) {
      FinishLocked(grpc::UNAVAILABLE, Std(status.message()));
    } else if (!finished_) {
      for (const auto& entry : entries) {
        StreamId& pos = position_[entry->partition];
        if (entry->id <= pos) continue;
        pos = entry->id;
        if (filter_.Matches(*entry)) Enqueue(entry->alert);
      }
      for (int p : done) position_[p] = std::max(position_[p], to[p]);
      caught_up = AtOrAfter(position_, target_);
      seen = position_;
      WriteNextLocked();
    }
  }
  if (caught_up) {
    Positions newer_head;
    if (env_->hub->TryGoLive(this, seen, &newer_head)) {
      absl::MutexLock lock(&mu_);
      live_ = true;
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

void WatchReactor::Enqueue(std::shared_ptr<const alliance::v1::Alert> alert) {
  queue_.push_back({std::move(alert), EncodeWatchCursor(position_)});
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
  if (registered_) env_->hub->Remove(this);
  env_->open.fetch_sub(1);
  env_->metrics->watchers->Add(-1);
  Unref();
}

bool WatchReactor::OnLiveEntries(const EntryBatch& entries) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  for (const auto& entry : entries) {
    StreamId& pos = position_[entry->partition];
    if (entry->id <= pos) continue;  // already sent during catch-up
    pos = entry->id;
    if (!filter_.Matches(*entry)) continue;
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
  WriteNextLocked();
  return true;
}

bool WatchReactor::OnTick(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (finished_) return false;
  if (queue_.empty() && !writing_ && now - last_write_ >= env_->options.heartbeat) {
    Enqueue(nullptr);
    WriteNextLocked();
  }
  return true;
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
