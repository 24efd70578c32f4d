// The alert reader thread. It starts from the newest entry of every partition (watchers that
// want older alerts catch up with XRANGE on the Redis pool, not here), reconnects after
// Redis failures without losing its position, and fans batches out under its lock so that a
// watcher going live never misses or repeats an entry. Every read is preceded by TIME in the
// same pipeline, which is how the time floor (watch_hub.h) is known. A second thread ticks:
// heartbeats and sweeps of ended streams.
#include "services/insights/watch_hub.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/cluster_slot.h"

namespace alliance::insights {
namespace {
constexpr absl::Duration kReconnectBackoff = absl::Milliseconds(250);
// How far the time floor stays behind Redis's clock. Larger than any lag of a healthy reader
// (one XREAD BLOCK), and large enough that a step back of Redis's clock does not make a
// floor already handed out cover entries written after it.
constexpr uint64_t kFloorLagMs = 60'000;

// Milliseconds of a TIME reply ([seconds, microseconds]); nullopt for anything else.
std::optional<uint64_t> TimeReplyMs(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) return std::nullopt;
  uint64_t parts[2];
  for (size_t i = 0; i < 2; ++i) {
    const redisReply& e = *reply.element[i];
    if (e.type != REDIS_REPLY_STRING) return std::nullopt;
    auto [end, ec] = std::from_chars(e.str, e.str + e.len, parts[i]);
    if (ec != std::errc() || end != e.str + e.len) return std::nullopt;
  }
  return parts[0] * 1000 + parts[1] / 1000;
}

}  // namespace

WatchHub::WatchHub(RedisEndpoint endpoint, KeyLayout layout, WatchHubOptions options,
                   std::function<void(bool)> on_redis_health, std::optional<ClusterOptions> cluster)
    : endpoint_(std::move(endpoint)),
      cluster_(std::move(cluster)),
      layout_(std::move(layout)),
      options_(options),
      on_redis_health_(std::move(on_redis_health)) {
  for (int p = 0; p < layout_.partitions(); ++p) stream_keys_.push_back(layout_.AlertStream(p));
}

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

void WatchHub::BackOff() { Pause(kReconnectBackoff); }

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
    absl::Status status = ready ? ReadOnce(*redis) : Initialize(*redis);
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
    bool found = false;
    absl::Status status = ready ? ReadOnceCluster(*cluster, &found) : InitializeCluster(*cluster);
    if (!status.ok()) {
      // The client reconnects and follows failovers itself; this only paces the retries.
      LogWarning("alert_reader_error", {{"error", Std(status.message())}});
      SetRedisHealth(false);
      BackOff();
      continue;
    }
    SetRedisHealth(true);
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

absl::Status WatchHub::Initialize(RedisConnection& redis) {
  // Redis's clock first: every entry below it exists when the XREVRANGEs run, so the head they
  // find covers it.
  const SteadyTime sent = std::chrono::steady_clock::now();
  absl::StatusOr<RedisReplyPtr> time = redis.Command({"TIME"});
  if (!time.ok()) return time.status();
  std::optional<uint64_t> redis_ms = TimeReplyMs(**time);
  if (!redis_ms) return absl::InternalError("TIME: unexpected reply");
  if (absl::Status s = InitPositions(redis); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  SetCoveredLocked(*redis_ms, sent);
  return absl::OkStatus();
}

absl::Status WatchHub::InitPositions(RedisConnection& redis) {
  for (const std::string& key : stream_keys_)
    redis.Append({"XREVRANGE", key, "+", "-", "COUNT", "1"});
  Positions head(stream_keys_.size());
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(stream_keys_.size());
  if (!replies.ok()) return replies.status();
  for (size_t p = 0; p < stream_keys_.size(); ++p) {
    const redisReply& r = *(*replies)[p];
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
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
  // TIME runs right before XREAD: every entry below that time exists when XREAD runs.
  const SteadyTime sent = std::chrono::steady_clock::now();
  redis.Append({"TIME"});
  redis.Append(args);
  // Both replies are read whatever the first says, so the connection stays in step.
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(2);
  if (!replies.ok()) return replies.status();
  const RedisReplyPtr& reply = (*replies)[1];
  if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
  // The read covers everything below that time only if no stream had more entries than
  // COUNT let through.
  bool covered = redis_ms.has_value();
  EntryBatch batch;
  const redisReply& r = *reply;
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
      if (entries.elements >= static_cast<size_t>(options_.read_count)) covered = false;
      for (size_t e = 0; e < entries.elements; ++e) {
        std::unique_ptr<AlertEntry> entry = ParseAlertEntry(partition, *entries.element[e]);
        if (entry != nullptr) batch.push_back(std::move(entry));
      }
    }
  }
  std::stable_sort(batch.begin(), batch.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  Fanout(batch, covered, redis_ms.value_or(0), sent);
  return absl::OkStatus();
}

namespace {

// The earliest Redis clock reading of a round and when it was sent.
struct ClockReading {
  uint64_t ms = std::numeric_limits<uint64_t>::max();
  std::chrono::steady_clock::time_point sent;
  void Take(uint64_t reading, std::chrono::steady_clock::time_point at) {
    if (reading < ms) {
      ms = reading;
      sent = at;
    }
  }
};

}  // namespace

absl::Status WatchHub::InitializeCluster(ClusterClient& cluster) {
  // Per partition, as Initialize: the clock of the partition's primary, then its newest entry.
  // Every entry of every partition below the earliest of those clocks is then covered.
  Positions head(stream_keys_.size());
  ClockReading clock;
  for (size_t p = 0; p < stream_keys_.size(); ++p) {
    const std::string& key = stream_keys_[p];
    const CommandArgs commands[] = {{"TIME"}, {"XREVRANGE", key, "+", "-", "COUNT", "1"}};
    const SteadyTime sent = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = cluster.Exchange(KeySlot(key), commands);
    if (!replies.ok()) return replies.status();
    std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
    if (!redis_ms) return absl::InternalError("TIME: unexpected reply");
    clock.Take(*redis_ms, sent);
    const redisReply& r = *(*replies)[1];
    if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
    if (r.type == REDIS_REPLY_ARRAY && r.elements == 1) {
      std::unique_ptr<AlertEntry> newest =
          ParseAlertEntry(static_cast<int>(p), *r.element[0], false);
      if (newest != nullptr) head[p] = newest->id;
    }
  }
  absl::MutexLock lock(&mu_);
  head_ = std::move(head);
  ready_ = true;
  SetCoveredLocked(clock.ms, clock.sent);
  return absl::OkStatus();
}

absl::Status WatchHub::ReadOnceCluster(ClusterClient& cluster, bool* found) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    for (const StreamId& id : head_) ids.push_back(id.ToString());
  }
  const std::string count = std::to_string(options_.read_count);
  EntryBatch batch;
  ClockReading clock;
  bool covered = true;
  // One XREAD reply ([[key, [entry, ...]]], or nil when there is nothing new) of partition p.
  auto take = [&](size_t p, const redisReply& r) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements != 1) return;
    const redisReply& stream = *r.element[0];
    if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2) return;
    const redisReply& entries = *stream.element[1];
    if (entries.type != REDIS_REPLY_ARRAY) return;
    if (entries.elements >= static_cast<size_t>(options_.read_count)) covered = false;
    for (size_t e = 0; e < entries.elements; ++e) {
      std::unique_ptr<AlertEntry> entry = ParseAlertEntry(static_cast<int>(p), *entries.element[e]);
      if (entry != nullptr) batch.push_back(std::move(entry));
    }
  };

  // Fast path: one pipeline per primary, TIME first (every entry of that node's partitions
  // below it exists when their XREADs run), then one XREAD per partition the map says it
  // serves; idle polling then costs a round trip per primary, not per partition. A partition
  // answered with an error (a redirection, TRYAGAIN...) or on a node the walk did not reach
  // goes to the exchange below, which follows the Cluster protocol.
  std::vector<bool> done(stream_keys_.size(), false);
  std::map<std::string, std::vector<size_t>> by_node;  // "host:port" -> partitions
  for (size_t p = 0; p < stream_keys_.size(); ++p) {
    if (const NodeAddress* primary = cluster.map().PrimaryOf(KeySlot(stream_keys_[p]))) {
      by_node[primary->ToString()].push_back(p);
    }
  }
  // A failed walk (a node unreachable) leaves its partitions, and those of the nodes after it,
  // to the exchanges below.
  (void)cluster.ForEachPrimary([&](const NodeAddress& node, RedisConnection& redis) {
    auto it = by_node.find(node.ToString());
    if (it == by_node.end()) return absl::OkStatus();
    const std::vector<size_t>& partitions = it->second;
    const SteadyTime sent = std::chrono::steady_clock::now();
    redis.Append({"TIME"});
    for (size_t p : partitions) {
      redis.Append({"XREAD", "COUNT", count, "STREAMS", stream_keys_[p], ids[p]});
    }
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(partitions.size() + 1);
    if (!replies.ok()) return replies.status();
    std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
    if (!redis_ms) return absl::OkStatus();
    clock.Take(*redis_ms, sent);
    for (size_t k = 0; k < partitions.size(); ++k) {
      const redisReply& r = *(*replies)[k + 1];
      if (r.type == REDIS_REPLY_ERROR) continue;
      take(partitions[k], r);
      done[partitions[k]] = true;
    }
    return absl::OkStatus();
  });

  absl::Status failed = absl::OkStatus();
  // A primary that does not answer costs each of its partitions a whole call (bounded by the
  // client's call timeout): after the first, its other partitions wait for the next round, so
  // the partitions of the other primaries keep flowing during a failover.
  std::vector<NodeAddress> failed_nodes;
  for (size_t p = 0; p < stream_keys_.size(); ++p) {
    if (done[p]) continue;
    const std::string& key = stream_keys_[p];
    const int slot = KeySlot(key);
    const NodeAddress* primary = cluster.map().PrimaryOf(slot);
    const std::optional<NodeAddress> node =
        primary != nullptr ? std::optional<NodeAddress>(*primary) : std::nullopt;
    if (node && std::find(failed_nodes.begin(), failed_nodes.end(), *node) != failed_nodes.end()) {
      covered = false;
      continue;
    }
    // TIME right before the read, on the same primary: every entry of this partition below it
    // exists when XREAD runs.
    const CommandArgs commands[] = {{"TIME"}, {"XREAD", "COUNT", count, "STREAMS", key, ids[p]}};
    const SteadyTime sent = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = cluster.Exchange(slot, commands);
    absl::Status status = replies.status();
    if (status.ok()) status = ReplyStatus(*(*replies)[1]);
    if (!status.ok()) {
      covered = false;
      if (failed.ok()) failed = status;
      if (node) failed_nodes.push_back(*node);
      continue;
    }
    std::optional<uint64_t> redis_ms = TimeReplyMs(*(*replies)[0]);
    if (redis_ms) {
      clock.Take(*redis_ms, sent);
    } else {
      covered = false;
    }
    take(p, *(*replies)[1]);
  }
  std::stable_sort(batch.begin(), batch.end(),
                   [](const auto& a, const auto& b) { return a->id < b->id; });
  *found = !batch.empty();
  // What the partitions that answered returned goes out even when others failed: positions are
  // per partition, and the failed ones are read again from where they were.
  Fanout(batch, covered && clock.ms != std::numeric_limits<uint64_t>::max(), clock.ms, clock.sent);
  return failed;
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
