// The alert reader thread. It starts from the newest entry of every partition (watchers that
// want older alerts catch up with XRANGE on the Redis pool, not here), reconnects after
// Redis failures without losing its position, and fans batches out under its lock so that a
// watcher going live never misses or repeats an entry.
#include "services/insights/watch_hub.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"

namespace alliance::insights {
namespace {
constexpr absl::Duration kReconnectBackoff = absl::Milliseconds(250);
}  // namespace

WatchHub::WatchHub(RedisEndpoint endpoint, KeyLayout layout, WatchHubOptions options,
                   std::function<void(bool)> on_redis_health)
    : endpoint_(std::move(endpoint)),
      layout_(std::move(layout)),
      options_(options),
      on_redis_health_(std::move(on_redis_health)) {
  for (int p = 0; p < layout_.partitions(); ++p) stream_keys_.push_back(layout_.AlertStream(p));
}

WatchHub::~WatchHub() { Stop(); }

void WatchHub::Start() {
  reader_ = std::thread([this] { Run(); });
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
}

void WatchHub::BackOff() {
  absl::MutexLock lock(&mu_);
  // A condition variable rather than Mutex::Await: the predicate is then evaluated by this
  // thread, which ThreadSanitizer can follow.
  const absl::Time until = absl::Now() + kReconnectBackoff;
  while (!stopping_) {
    if (stop_requested_.WaitWithDeadline(&mu_, until)) break;
  }
}

absl::StatusOr<Positions> WatchHub::Head() const {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("service is shutting down");
  if (!ready_) return absl::UnavailableError("alert reader has not reached Redis yet");
  return head_;
}

bool WatchHub::Add(WatchSubscriber* subscriber) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  all_.insert(subscriber);
  return true;
}

bool WatchHub::TryGoLive(WatchSubscriber* subscriber, const Positions& seen, Positions* head) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || !all_.contains(subscriber)) return false;
  if (!AtOrAfter(seen, head_)) {
    *head = head_;
    return false;
  }
  live_.insert(subscriber);
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
    absl::Status status = ready ? ReadOnce(*redis) : InitPositions(*redis);
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
  }
}

absl::Status WatchHub::InitPositions(RedisConnection& redis) {
  for (const std::string& key : stream_keys_)
    redis.Append({"XREVRANGE", key, "+", "-", "COUNT", "1"});
  Positions head(stream_keys_.size());
  for (size_t p = 0; p < stream_keys_.size(); ++p) {
    absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
    if (!reply.ok()) return reply.status();
    if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
    const redisReply& r = **reply;
    if (r.type == REDIS_REPLY_ARRAY && r.elements == 1) {
      std::unique_ptr<AlertEntry> newest = ParseAlertEntry(p, *r.element[0], false);
      if (newest != nullptr) head[p] = newest->id;
    }
  }
  absl::MutexLock lock(&mu_);
  head_ = std::move(head);
  ready_ = true;
  return absl::OkStatus();
}

absl::Status WatchHub::ReadOnce(RedisConnection& redis) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    for (const StreamId& id : head_) ids.push_back(id.ToString());
  }
  std::vector<std::string_view> args = {"XREAD", "COUNT", "", "BLOCK", "", "STREAMS"};
  std::string count = std::to_string(options_.read_count);
  std::string block = std::to_string(absl::ToInt64Milliseconds(options_.block));
  args[2] = count;
  args[4] = block;
  for (const std::string& key : stream_keys_) args.push_back(key);
  for (const std::string& id : ids) args.push_back(id);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(args);
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  EntryBatch batch;
  const redisReply& r = **reply;
  if (r.type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < r.elements; ++i) {
      const redisReply& stream = *r.element[i];
      if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2) continue;
      std::string_view key = ReplyString(*stream.element[0]);
      auto it = std::find(stream_keys_.begin(), stream_keys_.end(), key);
      if (it == stream_keys_.end()) continue;
      int partition = static_cast<int>(it - stream_keys_.begin());
      const redisReply& entries = *stream.element[1];
      if (entries.type != REDIS_REPLY_ARRAY) continue;
      for (size_t e = 0; e < entries.elements; ++e) {
        std::unique_ptr<AlertEntry> entry = ParseAlertEntry(partition, *entries.element[e]);
        if (entry != nullptr) batch.push_back(std::move(entry));
      }
    }
  }
  std::stable_sort(batch.begin(), batch.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  Fanout(batch);
  return absl::OkStatus();
}

void WatchHub::Fanout(const EntryBatch& batch) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  if (!batch.empty()) {
    for (auto it = live_.begin(); it != live_.end();) {
      // flat_hash_set: erase(it++) keeps the iteration valid.
      if (!(*it)->OnLiveEntries(batch)) {
        live_.erase(it++);
      } else {
        ++it;
      }
    }
    for (const auto& entry : batch) {
      StreamId& head = head_[entry->partition];
      if (entry->id > head) head = entry->id;
    }
  }
  absl::Time now = absl::Now();
  if (now - last_tick_ >= options_.tick) {
    last_tick_ = now;
    for (auto it = live_.begin(); it != live_.end();) {
      if (!(*it)->OnTick(now)) {
        live_.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace alliance::insights
