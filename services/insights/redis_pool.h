// A fixed pool of threads, each owning one Redis connection (a single Redis) or one Redis
// Cluster client (cluster mode), that runs queries handed over by gRPC handlers. Handlers never
// block on Redis: they submit a job and return; the job runs on a pool thread (pipelining its
// commands through a RedisExecutor, the same code in both modes) and completes the handler's
// reactor.
#ifndef ALLIANCE_SERVICES_INSIGHTS_REDIS_POOL_H_
#define ALLIANCE_SERVICES_INSIGHTS_REDIS_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "store/cluster_client.h"
#include "store/redis_connection.h"
#include "store/redis_executor.h"

namespace alliance::insights {

class RedisPool {
 public:
  // Receives the thread's executor, or UNAVAILABLE when Redis cannot be reached (or the pool
  // is stopping). Runs exactly once for every accepted job.
  using Job = std::function<void(absl::StatusOr<RedisExecutor*>)>;

  // A single Redis at `endpoint`, or the Redis Cluster of `cluster` when set.
  RedisPool(RedisEndpoint endpoint, int threads, size_t max_queued,
            std::optional<ClusterOptions> cluster = std::nullopt);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  void Start();
  // Runs the queued jobs with UNAVAILABLE and joins the threads.
  void Stop();

  // False when the queue is full or the pool stopped; the job is then not run.
  bool Submit(Job job);

  size_t queued() const;

 private:
  void Run();
  void RunCluster(const ClusterOptions& options);
  // Takes the next job; false when the pool is stopping.
  bool NextJob(Job* job);

  const RedisEndpoint endpoint_;
  const std::optional<ClusterOptions> cluster_;
  const int thread_count_;
  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar work_;  // signalled when a job is queued or stopping_ becomes true
  std::vector<std::thread> threads_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_REDIS_POOL_H_
