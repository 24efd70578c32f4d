// The alert reader thread. It starts from the newest entry of every partition (watchers that
// want older alerts catch up on the Redis pool, not here), reconnects after Redis failures
// without losing its position (waiting by store/backoff.h), and fans batches out under its
// lock so that a watcher going live never misses or repeats an entry. Its reads are the
// store's (store/alert_watch_reads.h): each comes with a reading of Redis's clock taken right
// before, which is how the time floor (watch_hub.h) is known. A second thread ticks:
// heartbeats and sweeps of ended streams.
#include "services/insights/watch_hub.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/alert_watch_reads.h"

namespace alliance::insights {
namespace {
// How far the time floor stays behind Redis's clock. Larger than any lag of a healthy reader
// (one XREAD BLOCK), and large enough that a step back of Redis's clock does not make a
// floor already handed out cover entries written after it.
constexpr uint64_t kFloorLagMs = 60'000;

}  // namespace

WatchHub::WatchHub(RedisEndpoint endpoint, KeyLayout layout, WatchHubOptions options,
                   std::function<void(bool)> on_redis_health, std::optional<ClusterOptions> cluster)
    : endpoint_(std::move(endpoint)),
      cluster_(std::move(cluster)),
      layout_(std::move(layout)),
      options_(options),
      on_redis_health_(std::move(on_redis_health)) {}

WatchHub::~WatchHub() { Stop(); }

void WatchHub::Start() {
  reader_ = std::thread([this] { Run(); });
  ticker_ = std::thread([this] { RunTicker(); });
}

void WatchHub::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_requested_.SignalAll();
      for (WatchSubscriber* s : all_) s->OnHubStopping();
      live_.clear();
    }
  }
  if (reader_.joinable()) reader_.join();
  if (ticker_.joinable()) ticker_.join();
}

void WatchHub::BackOff() { Pause(backoff_.Next()); }

void WatchHub::Pause(absl::Duration pause) {
  absl::MutexLock lock(&mu_);
  // A condition variable rather than Mutex::Await: the predicate is then evaluated by this
  // thread, which ThreadSanitizer can follow.
  const absl::Time until = absl::Now() + pause;
  while (!stopping_) {
    if (stop_requested_.WaitWithDeadline(&mu_, until)) break;
  }
}

absl::StatusOr<Positions> WatchHub::Head(StreamId* floor) const {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("service is shutting down");
  if (!ready_ || covered_ms_ == 0) {
    return absl::UnavailableError("alert reader has not reached Redis yet");
  }
  if (floor != nullptr) *floor = FloorLocked();
  return head_;
}

uint64_t WatchHub::RedisNowMs() const {
  absl::MutexLock lock(&mu_);
  return RedisNowMsLocked();
}

uint64_t WatchHub::RedisNowMsLocked() const {
  if (covered_ms_ == 0) return 0;
  auto since = std::chrono::steady_clock::now() - covered_sent_;
  return covered_ms_ +
         static_cast<uint64_t>(std::max<int64_t>(
             0, std::chrono::duration_cast<std::chrono::milliseconds>(since).count()));
}

StreamId WatchHub::FloorLocked() const {
  if (covered_ms_ == 0) return StreamId{};
  // The clock part is the same for every watcher and every moment within a second whatever
  // the reader did; only a reader lagging more than kFloorLagMs makes the cap bind.
  uint64_t ms = RedisNowMsLocked();
  ms = ms > kFloorLagMs ? ms - kFloorLagMs : 0;
  ms = std::min(ms, covered_ms_ - 1);
  return StreamId{ms - ms % 1000, 0};
}

void WatchHub::SetCoveredLocked(uint64_t redis_ms, SteadyTime sent) {
  if (redis_ms <= covered_ms_) return;  // a clock that stepped back keeps the older floor
  covered_ms_ = redis_ms;
  covered_sent_ = sent;
}

bool WatchHub::Add(WatchSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  all_.insert(subscriber);
  return true;
}

bool WatchHub::TryGoLive(WatchSubscriber* subscriber, const Positions& seen, Positions* head,
                         StreamId* floor) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || !all_.contains(subscriber)) return false;
  if (!AtOrAfter(seen, head_)) {
    *head = head_;
    return false;
  }
  live_.insert(subscriber);
  *floor = FloorLocked();
  return true;
}

void WatchHub::Remove(WatchSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  all_.erase(subscriber);
  live_.erase(subscriber);
}

size_t WatchHub::live_count() const {
  absl::MutexLock lock(&mu_);
  return live_.size();
}

void WatchHub::SetRedisHealth(bool ok) {
  int state = ok ? 1 : 0;
  if (state == redis_health_) return;
  redis_health_ = state;
  if (on_redis_health_) on_redis_health_(ok);
}

void WatchHub::Run() {
  if (cluster_) return RunCluster(*cluster_);
  std::unique_ptr<RedisConnection> redis;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (redis == nullptr || redis->broken()) {
      redis.reset();
      absl::StatusOr<std::unique_ptr<RedisConnection>> fresh = RedisConnection::Connect(endpoint_);
      if (!fresh.ok()) {
        SetRedisHealth(false);
        BackOff();
        continue;
      }
      redis = *std::move(fresh);
      // The read timeout must outlast XREAD's BLOCK.
      (void)redis->SetCommandTimeout(options_.block + endpoint_.command_timeout);
    }
    bool ready;
    {
      absl::MutexLock lock(&mu_);
      ready = ready_;
    }
    ConnectionExecutor executor(*redis);
    bool found = false;
    absl::Status status = ready ? ReadOnce(executor, &found) : Initialize(executor);
    if (!status.ok()) {
      LogWarning("alert_reader_error", {{"error", Std(status.message())}});
      SetRedisHealth(false);
      if (!redis->broken()) {
        // An error reply (e.g. a key of the wrong type): back off instead of spinning.
        BackOff();
      }
      continue;
    }
    SetRedisHealth(true);
    backoff_.Reset();
  }
}

void WatchHub::RunCluster(const ClusterOptions& options) {
  std::unique_ptr<ClusterClient> cluster;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (cluster == nullptr) {
      absl::StatusOr<std::unique_ptr<ClusterClient>> fresh = ClusterClient::Connect(options);
      if (!fresh.ok()) {
        LogWarning("alert_reader_error", {{"error", Std(fresh.status().message())}});
        SetRedisHealth(false);
        BackOff();
        continue;
      }
      cluster = *std::move(fresh);
    }
    bool ready;
    {
      absl::MutexLock lock(&mu_);
      ready = ready_;
    }
    ClusterExecutor executor(*cluster);
    bool found = false;
    absl::Status status = ready ? ReadOnce(executor, &found) : Initialize(executor);
    if (!status.ok()) {
      // The client reconnects and follows failovers itself; this only paces the retries.
      LogWarning("alert_reader_error", {{"error", Std(status.message())}});
      SetRedisHealth(false);
      BackOff();
      continue;
    }
    SetRedisHealth(true);
    backoff_.Reset();
    if (ready && !found) Pause(options_.poll);
  }
}

void WatchHub::RunTicker() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    stop_requested_.WaitWithTimeout(&mu_, options_.tick);
    if (stopping_) break;
    const absl::Time now = absl::Now();
    const StreamId floor = FloorLocked();
    for (auto it = live_.begin(); it != live_.end();) {
      // flat_hash_set: erase(it++) keeps the iteration valid.
      if (!(*it)->OnTick(now, floor)) {
        live_.erase(it++);
      } else {
        ++it;
      }
    }
    for (WatchSubscriber* s : all_) s->OnSweep(now);
  }
}

absl::Status WatchHub::Initialize(RedisExecutor& redis) {
  absl::StatusOr<AlertStreamEnds> ends = ReadAlertStreamEnds(redis, layout_);
  if (!ends.ok()) return ends.status();
  absl::MutexLock lock(&mu_);
  head_ = std::move(ends->newest);
  ready_ = true;
  SetCoveredLocked(ends->clock.ms, ends->clock.sent);
  return absl::OkStatus();
}

absl::Status WatchHub::ReadOnce(RedisExecutor& redis, bool* found) {
  Positions after;
  {
    absl::MutexLock lock(&mu_);
    after = head_;
  }
  absl::StatusOr<NewAlerts> read =
      ReadNewAlerts(redis, layout_, after, {.count = options_.read_count, .block = options_.block});
  if (!read.ok()) return read.status();
  *found = !read->entries.empty();
  // What the partitions that answered returned goes out even when others failed (a cluster):
  // positions are per partition, and the failed ones are read again from where they were.
  const std::optional<RedisClock>& covered = read->covered;
  Fanout(read->entries, covered.has_value(), covered ? covered->ms : 0,
         covered ? covered->sent : SteadyTime{});
  return read->partial_failure;
}

void WatchHub::Fanout(const EntryBatch& batch, bool covered, uint64_t redis_ms, SteadyTime sent) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  for (const auto& entry : batch) {
    StreamId& head = head_[entry->partition];
    if (entry->id > head) head = entry->id;
  }
  if (covered) SetCoveredLocked(redis_ms, sent);
  if (batch.empty()) return;
  // The floor after this batch: subscribers apply it once they have taken the whole batch.
  const StreamId floor = FloorLocked();
  for (auto it = live_.begin(); it != live_.end();) {
    // flat_hash_set: erase(it++) keeps the iteration valid.
    if (!(*it)->OnLiveEntries(batch, floor)) {
      live_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace alliance::insights
