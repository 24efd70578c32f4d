// The writer threads between the gRPC handlers and Redis. Handlers enqueue jobs into one
// bounded queue and return at once; each writer owns a RedisConnection (or a cluster client),
// takes a batch of jobs, appends them with one call of the append script per partition
// (store/feedback_append.h), and completes each job only after Redis replied. Writers reconnect
// by themselves, waiting by store/backoff.h between attempts; while none is connected, new jobs
// are refused with UNAVAILABLE so callers never wait on a dead Redis.
#ifndef ALLIANCE_SERVICES_INTAKE_WRITER_POOL_H_
#define ALLIANCE_SERVICES_INTAKE_WRITER_POOL_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/write_job.h"
#include "store/cluster_client.h"
#include "store/keys.h"
#include "store/redis_connection.h"

namespace alliance::intake {

struct WriterPoolOptions {
  RedisEndpoint endpoint;
  // Checked at every connection (store/partition_guard.h): a writer never appends to a Redis
  // whose deployment has another partition count.
  KeyLayout layout{1};
  // Set: Redis Cluster instead of `endpoint` (store/cluster_client.h).
  std::optional<ClusterOptions> cluster;
  // > 0: a submission is acknowledged only once WAIT confirms it reached this many replicas
  // within wait_timeout; otherwise it is answered UNAVAILABLE (retry with the idempotency id).
  int wait_replicas = 0;
  absl::Duration wait_timeout = absl::Seconds(1);
  int threads = 2;
  size_t queue_capacity = 4096;
  size_t max_pipeline = 128;  // jobs one writer sends before reading replies
  absl::Duration idempotency_window = absl::Hours(24);
  absl::Duration idle_ping = absl::Seconds(1);  // liveness check of an idle connection
  // The reconnect policy's bounds (store/backoff.h).
  absl::Duration backoff_initial = absl::Milliseconds(50);
  absl::Duration backoff_max = absl::Seconds(2);
};

class WriterPool {
 public:
  // `on_redis_state` is called with true when the first writer connects and with false when
  // the last one loses its connection (from a writer thread).
  WriterPool(WriterPoolOptions options, IntakeMetrics* metrics,
             std::function<void(bool)> on_redis_state);
  ~WriterPool();  // Shutdown(now) if still running

  void Start();

  // Hands a job to the writers. On error the job is returned untouched (its `done` is not
  // called): UNAVAILABLE when no writer is connected or the pool is stopping,
  // RESOURCE_EXHAUSTED when the queue is full.
  absl::Status Submit(std::unique_ptr<WriteJob>& job);

  // Refuses new jobs, lets the writers finish the queued ones until `deadline` (later ones are
  // failed with UNAVAILABLE without being written), and joins the threads.
  void Shutdown(absl::Time deadline);

  size_t queue_depth() const;
  bool redis_up() const;

 private:
  class Writer;
  friend class Writer;

  using Batch = std::vector<std::unique_ptr<WriteJob>>;

  // Blocks until jobs are available (up to max_pipeline of them), the idle timeout passed
  // (empty batch, returns true), or the pool stopped with an empty queue (returns false).
  bool NextBatch(Batch* batch);
  void WriterConnected();
  // Returns the queued jobs to fail when this was the last connected writer.
  Batch WriterDisconnected();
  // Queued jobs to fail while no writer is connected, or after the drain deadline.
  Batch TakeAllIfUnservable();
  bool stopping() const;
  absl::Time drain_deadline() const;

  const WriterPoolOptions options_;
  IntakeMetrics* const metrics_;
  const std::function<void(bool)> on_redis_state_;

  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<WriteJob>> queue_ ABSL_GUARDED_BY(mu_);
  int connected_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time drain_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::CondVar work_;  // jobs queued, or stopping

  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::thread> threads_;
  bool joined_ = false;
};

// Completes every job of `jobs` with `status` (nothing was written for them).
void FailJobs(std::vector<std::unique_ptr<WriteJob>>& jobs, const absl::Status& status);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_WRITER_POOL_H_
