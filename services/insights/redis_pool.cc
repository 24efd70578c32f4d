// Redis worker threads: one connection (or cluster client) each, reconnecting after transport
// failures by the shared reconnect policy (store/backoff.h): while it waits, jobs fail fast
// instead of piling up behind an unreachable Redis.
#include "services/insights/redis_pool.h"

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "store/backoff.h"

namespace alliance::insights {
namespace {
// A job that stopped reading a pipeline early (at an error reply, say) left replies on the
// connection; the next job, maybe another tenant's, would read them as its own. Every job
// should read all it asked for (RedisConnection::GetReplies); this is the backstop that keeps
// the connection in step when one does not, and a broken connection is dropped.
void ResyncAfterJob(std::unique_ptr<RedisConnection>& connection) {
  if (connection->pending_replies() == 0) return;
  absl::StatusOr<size_t> dropped = connection->DiscardPendingReplies();
  LogWarning("redis_replies_left_unread",
             {{"replies", static_cast<int64_t>(dropped.value_or(0))}, {"resynced", dropped.ok()}});
  if (!dropped.ok()) connection.reset();
}

}  // namespace

RedisPool::RedisPool(RedisEndpoint endpoint, int threads, size_t max_queued,
                     std::optional<ClusterOptions> cluster)
    : endpoint_(std::move(endpoint)),
      cluster_(std::move(cluster)),
      thread_count_(threads),
      max_queued_(max_queued) {}

RedisPool::~RedisPool() { Stop(); }

void RedisPool::Start() {
  for (int i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { Run(); });
}

void RedisPool::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_.SignalAll();
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  std::deque<Job> left;
  {
    absl::MutexLock lock(&mu_);
    left.swap(queue_);
  }
  for (Job& job : left) job(absl::UnavailableError("service is shutting down"));
}

bool RedisPool::Submit(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(job));
  work_.Signal();
  return true;
}

size_t RedisPool::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

bool RedisPool::NextJob(Job* job) {
  absl::MutexLock lock(&mu_);
  while (true) {
    // A condition variable rather than Mutex::Await: the predicate is then evaluated by this
    // thread, which ThreadSanitizer can follow.
    if (!stopping_ && queue_.empty()) work_.WaitWithTimeout(&mu_, absl::Seconds(1));
    if (stopping_) return false;
    if (queue_.empty()) continue;
    *job = std::move(queue_.front());
    queue_.pop_front();
    return true;
  }
}

void RedisPool::Run() {
  if (cluster_) return RunCluster(*cluster_);
  std::unique_ptr<RedisConnection> connection;
  // After a failed connect, jobs fail fast until the policy's next attempt.
  Backoff backoff;
  absl::Time next_connect = absl::InfinitePast();
  Job job;
  while (NextJob(&job)) {
    if (connection != nullptr && connection->broken()) connection.reset();
    if (connection == nullptr && absl::Now() >= next_connect) {
      absl::StatusOr<std::unique_ptr<RedisConnection>> fresh = RedisConnection::Connect(endpoint_);
      if (fresh.ok()) {
        connection = *std::move(fresh);
        backoff.Reset();
      } else {
        next_connect = absl::Now() + backoff.Next();
        LogWarning("redis_connect_failed", {{"error", Std(fresh.status().message())}});
      }
    }
    if (connection == nullptr) {
      job(absl::UnavailableError("Redis is unreachable"));
      continue;
    }
    ConnectionExecutor executor(*connection);
    job(&executor);
    ResyncAfterJob(connection);
  }
}

// Cluster mode: the client keeps one connection per primary and handles redirections,
// failovers and reconnects itself (every call bounded, UNAVAILABLE at the end); this thread
// only makes the client, which needs a slot map from a seed first.
void RedisPool::RunCluster(const ClusterOptions& options) {
  std::unique_ptr<ClusterClient> cluster;
  // After a failed connect, jobs fail fast until the policy's next attempt.
  Backoff backoff;
  absl::Time next_connect = absl::InfinitePast();
  Job job;
  while (NextJob(&job)) {
    if (cluster == nullptr && absl::Now() >= next_connect) {
      absl::StatusOr<std::unique_ptr<ClusterClient>> fresh = ClusterClient::Connect(options);
      if (fresh.ok()) {
        cluster = *std::move(fresh);
        backoff.Reset();
      } else {
        next_connect = absl::Now() + backoff.Next();
        LogWarning("redis_cluster_connect_failed", {{"error", Std(fresh.status().message())}});
      }
    }
    if (cluster == nullptr) {
      job(absl::UnavailableError("Redis Cluster is unreachable"));
      continue;
    }
    ClusterExecutor executor(*cluster);
    job(&executor);
  }
}

}  // namespace alliance::insights
